"""Custom pyinfra operations of this project, one module per topic."""
