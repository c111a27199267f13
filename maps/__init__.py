"""The maps decision-map ships, with their scenarios: installed as the package
`decision_map_maps` so that the wheel carries them (`decision-map maps` lists them)."""
