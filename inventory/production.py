# Example production inventory: copy to inventory/<yours>.py and fill in your server.
#
#     pyinfra inventory/production.py deploy.py --dry    # plan: what would change
#     pyinfra -y inventory/production.py deploy.py       # apply
#
# Hosts in this file are in the group "production" (the file name) and in "web" (the variable):
# settings in inventory/group_data/production.py or web.py override all.py for them.
# The deploy connects as a sudo-capable user with an SSH key; it never needs root's password.

web = [
    (
        "203.0.113.10",  # your server's address (documentation address: replace it)
        {
            "ssh_user": "deploy",
            "ssh_key": "~/.ssh/id_ed25519",
            "_sudo": True,
        },
    ),
]
