"""The database's TLS certificates and the replication role's password, derived from one secret.

With the database on a server of its own, the app reaches PostgreSQL over the network with TLS, checked
(``sslmode=verify-full``) against a CA the deploy issues. Nothing of it is stored on the controller: the CA key,
each database server's key and certificate, and the replication password are derived from
``LOUIE_CLUSTER_SECRET`` (HKDF-SHA256 with a label per use). The keys are ECDSA P-256 and the signatures
deterministic (RFC 6979), with a fixed validity, so every deploy computes byte-identical files: a second run
uploads nothing, a promoted standby gets its own certificate from the same CA, and changing the secret re-issues
everything on the next deploy. (Not Ed25519: its certificates name no digest, and PostgreSQL's SCRAM channel
binding needs one: libpq fails with "could not find digest for NID UNDEF".)
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

SECRET_ENV = "LOUIE_CLUSTER_SECRET"
#: Fixed validity: the files must not change from one deploy to the next. Rotation is a new secret.
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(2125, 1, 1, tzinfo=datetime.UTC)
MIN_SECRET_LENGTH = 16


def cluster_label(settings) -> str:
    """The name the cluster's CA and certificates carry: cluster_name, else app_name."""
    return settings.cluster_name or settings.app_name


@dataclass(frozen=True)
class KeyPair:
    certificate: str  # PEM
    key: str  # PEM (PKCS#8), a secret


def _derive(secret: str, label: str, length: int = 32) -> bytes:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{SECRET_ENV} is too short: use at least {MIN_SECRET_LENGTH} random characters")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"louieops", info=label.encode()).derive(secret.encode())


#: The order of P-256: a private key is a number in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _key(secret: str, label: str) -> ec.EllipticCurvePrivateKey:
    number = int.from_bytes(_derive(secret, f"p256 {label}", 48), "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(number, ec.SECP256R1())


def _serial(secret: str, label: str) -> int:
    return int.from_bytes(_derive(secret, f"serial {label}", 16), "big") >> 1  # positive, < 2**127


def _sign(builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "louieops"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ca(secret: str, cluster: str) -> KeyPair:
    """The database CA of ``cluster`` (its certificate goes to every database client)."""
    key = _key(secret, "database ca")
    name = _name(f"{cluster} database CA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial(secret, "database ca"))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = _sign(builder, key)
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM).decode(), _pem_key(key))


def server(secret: str, cluster: str, host: str, address: str) -> KeyPair:
    """The certificate of the database server ``host``, for its private ``address`` (an IP SAN: libpq's
    verify-full checks it against the address it connects to)."""
    return _leaf(
        secret,
        cluster,
        label=f"database server {host} {address}",
        common_name=f"{host} ({address})",
        names=[x509.IPAddress(ipaddress.ip_address(address))],
        usage=x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
    )


#: The common name of the primary's pgBackRest client certificate: the standby's TLS server lets exactly it
#: reach the stanza (tls-server-auth). No '=' in it: that option reads "CN=stanza".
BACKUP_CLIENT_NAME = "louieops-backup"


def backup_server(secret: str, cluster: str, host: str, address: str) -> KeyPair:
    """The certificate of the pgBackRest TLS server on the hot standby ``host`` (the primary's backups read the
    database's files through it). Its address is a DNS name as well as an IP SAN: pgBackRest before 2.53
    (Debian 12 has 2.45) matches only DNS names against the host it connects to."""
    return _leaf(
        secret,
        cluster,
        label=f"backup server {host} {address}",
        common_name=f"{host} ({address}) pgBackRest",
        names=[x509.DNSName(address), x509.IPAddress(ipaddress.ip_address(address))],
        usage=x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
    )


def backup_client(secret: str, cluster: str) -> KeyPair:
    """The primary's pgBackRest client certificate (common name BACKUP_CLIENT_NAME)."""
    return _leaf(
        secret,
        cluster,
        label="backup client",
        common_name=BACKUP_CLIENT_NAME,
        names=None,
        usage=x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,
    )


def _leaf(
    secret: str, cluster: str, label: str, common_name: str, names: list | None, usage: x509.ObjectIdentifier
) -> KeyPair:
    """A certificate signed by the cluster's database CA, its key derived from ``label``."""
    authority = ca(secret, cluster)
    ca_key = serialization.load_pem_private_key(authority.key.encode(), None)
    ca_cert = x509.load_pem_x509_certificate(authority.certificate.encode())
    key = _key(secret, label)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial(secret, label))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
    )
    cert = _sign(builder, ca_key)
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM).decode(), _pem_key(key))


def replication_password(secret: str) -> str:
    """The password of the replication role (the standby logs in with it)."""
    return base64.urlsafe_b64encode(_derive(secret, "replication password", 24)).decode().rstrip("=")


def fingerprint(pem: str) -> str:
    """sha256 of a certificate (for messages and tests)."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
