"""Custom pyinfra facts of this project, one module per topic."""
