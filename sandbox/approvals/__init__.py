"""Ask means ask: send held commands to Wingman, wait for a human, run exactly what was approved."""
