"""The PATH stubs: their generator, their bash template and their slow path."""
