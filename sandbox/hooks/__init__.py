"""The bash and zsh hooks: their set-up and their slow path."""
