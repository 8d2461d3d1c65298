"""Log shipping to Papertrail (seed §2.3): the system log, the app's log files and nginx's access log (its
http_5xx and slow_request marks feed the saved searches, tasks/saas.py), over TLS.

Settings read: papertrail_host, papertrail_port, papertrail_ca_file,
papertrail_permitted_peer, papertrail_queue_max_disk, remote_syslog2_version, remote_syslog2_sha256,
remote_syslog2_source, app_name, app_log_dir.

Two ways, chosen by papertrail_method (papertrail_port None disables shipping):
- "rsyslog" (default): Debian's rsyslog + rsyslog-gnutls. imfile tails {app_log_dir}/*.log and nginx's
  access log, everything rsyslog receives is forwarded with omfwd over TLS, the peer authenticated by
  certificate chain (papertrail_ca_file) and name (x509/name, papertrail_permitted_peer). A disk-assisted
  queue keeps lines while Papertrail is unreachable and across restarts.
- "remote_syslog2": the release tarball pinned by version and sha256 (from a URL or a file on the
  controller), /etc/log_files.yml with protocol tls, and a systemd unit.
Switching method (or disabling) removes the other sender's configuration.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from louieops.layout import NGINX_ACCESS_LOG, log_shipping_method
from louieops.resources import put_template
from louieops.server_scripts import RSYSLOG_QUEUE
from louieops.settings import Settings, for_host

RSYSLOG_CONF = "/etc/rsyslog.d/60-louieops-papertrail.conf"
LOG_FILES_YML = "/etc/log_files.yml"
REMOTE_SYSLOG_UNIT = "/etc/systemd/system/remote_syslog.service"
REMOTE_SYSLOG_LINK = "/usr/local/bin/remote_syslog"
REMOTE_SYSLOG_CACHE = "/var/cache/louieops"
REMOTE_SYSLOG_ROOT = "/opt/remote_syslog2"


@deploy("Log shipping")
def ship_logs():
    s = for_host(host)
    method = log_shipping_method(s)
    if method == "none":
        reason = "papertrail_port is None" if s.papertrail_port is None else "papertrail_method is 'none'"
        logger.info(f"[{host.name}] Log shipping to Papertrail is disabled ({reason}).")
    elif host.get_fact(File, path=s.papertrail_ca_file) is None:
        raise DeployError(
            f"papertrail_ca_file {s.papertrail_ca_file} does not exist on {host.name}: put the CA bundle "
            "that signs your Papertrail endpoint there (or point the setting at the system bundle)."
        )
    _rsyslog(s, enabled=method == "rsyslog")
    _remote_syslog2(s, enabled=method == "remote_syslog2")


def _rsyslog(s: Settings, enabled: bool) -> None:
    if not enabled:
        removed = files.file(name=f"Remove {RSYSLOG_CONF}", path=RSYSLOG_CONF, present=False)
        systemd.service(
            name="Restart rsyslog",
            service="rsyslog.service",
            restarted=True,
            _if=removed.did_change,
        )
        return

    # install
    apt.packages(name="Install rsyslog with TLS support", packages=["rsyslog", "rsyslog-gnutls"])

    # configure
    conf = put_template(
        "rsyslog/60-louieops-papertrail.conf.j2",
        RSYSLOG_CONF,
        name=f"Upload {RSYSLOG_CONF}",
        papertrail_host=s.papertrail_host,
        papertrail_port=s.papertrail_port,
        papertrail_ca_file=s.papertrail_ca_file,
        permitted_peer=s.papertrail_permitted_peer or s.papertrail_host,
        papertrail_queue_max_disk=s.papertrail_queue_max_disk,
        queue_name=RSYSLOG_QUEUE,
        app_log_dir=s.app_log_dir,
        app_name=s.app_name,
        nginx_access_log=NGINX_ACCESS_LOG,
    )

    # activate
    server.shell(name="Check the rsyslog configuration", commands=["rsyslogd -N1"], _if=conf.did_change)
    systemd.service(name="Restart rsyslog", service="rsyslog.service", restarted=True, _if=conf.did_change)
    systemd.service(name="Start and enable rsyslog", service="rsyslog.service", running=True, enabled=True)


def tarball_source(s: Settings) -> str:
    return s.remote_syslog2_source.replace("{version}", s.remote_syslog2_version)


def local_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_tarball(s: Settings) -> str:
    return f"{REMOTE_SYSLOG_CACHE}/remote_syslog_linux_amd64-{s.remote_syslog2_version}.tar.gz"


def _remote_syslog2(s: Settings, enabled: bool) -> None:
    if not enabled:
        if host.get_fact(File, path=REMOTE_SYSLOG_UNIT) is not None:
            systemd.service(
                name="Stop and disable remote_syslog",
                service="remote_syslog.service",
                running=False,
                enabled=False,
            )
        unit = files.file(name=f"Remove {REMOTE_SYSLOG_UNIT}", path=REMOTE_SYSLOG_UNIT, present=False)
        systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
        files.file(name=f"Remove {LOG_FILES_YML}", path=LOG_FILES_YML, present=False)
        files.link(name=f"Remove {REMOTE_SYSLOG_LINK}", path=REMOTE_SYSLOG_LINK, present=False)
        files.directory(name=f"Remove {REMOTE_SYSLOG_ROOT}", path=REMOTE_SYSLOG_ROOT, present=False)
        files.file(name=f"Remove {_cached_tarball(s)}", path=_cached_tarball(s), present=False)
        return

    # install: the tarball, verified against the pinned sha256 before it is unpacked
    version, sha256 = s.remote_syslog2_version, s.remote_syslog2_sha256
    source = tarball_source(s)
    cached = _cached_tarball(s)
    files.directory(name=f"Create {REMOTE_SYSLOG_CACHE}", path=REMOTE_SYSLOG_CACHE, mode="755")
    if source.startswith("/"):
        if not Path(source).is_file():
            raise DeployError(f"remote_syslog2_source {source} is not a file on this machine")
        actual = local_sha256(source)
        if actual != sha256:
            raise DeployError(
                f"refusing to install {source}: its sha256 is {actual}, remote_syslog2_sha256 pins {sha256}"
            )
        files.put(name=f"Upload {cached}", src=source, dest=cached, mode="644")
    else:
        files.download(name=f"Download {cached}", src=source, dest=cached, sha256sum=sha256, mode="644")
    release = f"{REMOTE_SYSLOG_ROOT}/{version}-{sha256[:12]}"
    files.directory(name=f"Create {release}", path=release, mode="755")
    files.unarchive(
        name=f"Unpack remote_syslog2 {version} into {release}",
        src=cached,
        dest=release,
        remote_src=True,
        creates=f"{release}/remote_syslog/remote_syslog",
    )
    binary = files.link(
        name=f"Link {REMOTE_SYSLOG_LINK}",
        path=REMOTE_SYSLOG_LINK,
        target=f"{release}/remote_syslog/remote_syslog",
    )

    # configure
    config = put_template(
        "remote_syslog2/log_files.yml.j2",
        LOG_FILES_YML,
        name=f"Upload {LOG_FILES_YML}",
        app_log_dir=s.app_log_dir,
        app_name=s.app_name,
        nginx_access_log=NGINX_ACCESS_LOG,
        papertrail_host=s.papertrail_host,
        papertrail_port=s.papertrail_port,
    )
    unit = put_template(
        "remote_syslog2/remote_syslog.service.j2",
        REMOTE_SYSLOG_UNIT,
        name=f"Upload {REMOTE_SYSLOG_UNIT}",
        remote_syslog2_version=version,
        papertrail_ca_file=s.papertrail_ca_file,
    )

    # activate
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(
        name="Restart remote_syslog",
        service="remote_syslog.service",
        restarted=True,
        _if=any_changed(binary, config, unit),
    )
    systemd.service(
        name="Start and enable remote_syslog",
        service="remote_syslog.service",
        running=True,
        enabled=True,
    )
