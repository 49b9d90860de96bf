"""The `git` deployment executor: a deployment is a commit to the pipeline's Git target,
which Argo CD or Flux deploys. edits.py and yamltext.py change the file; workcopy.py keeps
the copies; credentials.py and command.py run git; publish.py commits and pushes;
message.py writes the message; run.py is what the executor calls."""
