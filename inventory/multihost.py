# Example inventory of several servers: copy to inventory/<yours>.py and put in your servers.
#
#     .venv/bin/louieops plan inventory/<yours>.py     # what would change (exit 0 none, 2 some, 1 error)
#     .venv/bin/louieops apply inventory/<yours>.py    # apply
#
# Each variable named after a role is that role's group (louieops/topology.py): db (the PostgreSQL primary),
# db_standby (an optional hot standby), app (the app under pm2; one or more) and lb (nginx with TLS and the public
# names: point their DNS at it). A host may be in several groups. Each host's private_address is where the
# others reach it: PostgreSQL, the app and replication listen there and the firewalls open it to exactly the
# roles that use it. The settings each host derives from the others (the app's database host, the lb's
# upstreams, pg_hba, the firewalls) come from this file: nothing is typed twice.
# Besides the secrets of a single server, export LOUIE_CLUSTER_SECRET (README, "Several servers").

_DEPLOY = {"ssh_user": "deploy", "ssh_strict_host_key_checking": "yes", "_sudo": True}

lb = [("203.0.113.10", {**_DEPLOY, "private_address": "10.0.0.10"})]
app = [
    ("203.0.113.11", {**_DEPLOY, "private_address": "10.0.0.11"}),
    ("203.0.113.12", {**_DEPLOY, "private_address": "10.0.0.12"}),
]
db = [("203.0.113.13", {**_DEPLOY, "private_address": "10.0.0.13"})]
db_standby = [("203.0.113.14", {**_DEPLOY, "private_address": "10.0.0.14"})]

# Settings of every host of this cluster (a group of them all; group_data/<group>.py files work too).
cluster = ([*lb, *app, *db, *db_standby], {"cluster_name": "simplylouie"})
