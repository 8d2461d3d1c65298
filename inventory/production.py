# Example production inventory: copy to inventory/<yours>.py and fill in your server.
#
#     .venv/bin/louieops plan inventory/production.py     # what would change (exit 0 none, 2 some, 1 error)
#     .venv/bin/louieops apply inventory/production.py    # apply
#
# Hosts in this file are in the group "production" (the file name) and in "web" (the variable):
# settings in inventory/group_data/production.py or web.py override all.py for them.
# The deploy connects as a sudo-capable user with an SSH key (from ssh-agent, or ~/.ssh/id_ed25519); it never
# needs root's password. The server's host key must be in ~/.ssh/known_hosts: the connection is verified.

web = [
    (
        "203.0.113.10",  # your server's address (documentation address: replace it)
        {
            "ssh_user": "deploy",
            "ssh_strict_host_key_checking": "yes",
            "_sudo": True,
        },
    ),
]
