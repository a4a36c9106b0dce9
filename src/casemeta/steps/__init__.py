"""Steps that tie the stages to files: what the workflow rules and the command line call."""
