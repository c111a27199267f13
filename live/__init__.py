"""The live room: a decision map walked in the browser, every member voting from their own
phone (`decision-map serve`). It sits on the core and render/; nothing there imports it."""
