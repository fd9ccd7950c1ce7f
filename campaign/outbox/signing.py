"""DKIM signatures (RSA-SHA256, relaxed/relaxed), with the RSA step done by OpenSSL.

dkimpy canonicalises the message and lays out the DKIM-Signature header; its RSA arithmetic
is pure Python (about 9 ms a signature for a 2048-bit key), so the one step that signs the
header hash goes through `cryptography` (OpenSSL) instead, with the key parsed once.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

# The headers a DKIM signature covers.
DKIM_HEADERS = [
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type",
    b"List-Unsubscribe", b"List-Unsubscribe-Post", b"Reply-To",
]  # fmt: skip


def dkim_sign(data: bytes, *, selector: str, domain: str, private_key: bytes) -> bytes:
    """Return `data` with a DKIM-Signature header (relaxed/relaxed, RSA-SHA256) in front."""
    signer = _OpenSSLSigned(data, _rsa_key(private_key))
    signature = signer.sign(
        selector.encode(),
        domain.encode(),
        private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=DKIM_HEADERS,
    )
    header: bytes = signature  # "DKIM-Signature: ...", CRLF-ended
    return header + data


@functools.lru_cache(maxsize=8)
def _rsa_key(pem: bytes) -> rsa.RSAPrivateKey:
    """Return the RSA key of a PEM file's bytes, parsed once."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise dkim.KeyFormatError("the DKIM key is not an RSA key")
    return key


class _OpenSSLSigned(dkim.DKIM):
    """dkimpy's signer with the RSA signature made by OpenSSL."""

    def __init__(self, message: bytes, key: rsa.RSAPrivateKey) -> None:
        super().__init__(message, signature_algorithm=b"rsa-sha256", linesep=b"\r\n")
        self._key = key

    def gen_header(
        self,
        fields: list[tuple[bytes, bytes]],
        include_headers: tuple[bytes, ...],
        canon_policy: Any,
        header_name: bytes,
        pk: Any,
        standardize: bool = False,
    ) -> bytes:
        """As dkimpy's own (its non-standardised form), but signing through OpenSSL."""
        value = b"; ".join(b"=".join(field) for field in fields)
        value = dkim.RE_BTAG.sub(b"\\1", dkim.fold(value, namelen=len(header_name)))
        hashed = dkim.HashThrough(self.hasher(), self.debug_content)
        headers = canon_policy.canonicalize_headers(self.headers)
        self.signed_headers = dkim.hash_headers(
            hashed,
            canon_policy,
            headers,
            include_headers,
            (header_name, b" " + value),
            dict(fields),
        )
        signature = self._key.sign(hashed.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        fields = [(b"b", base64.b64encode(signature)) if k == b"b" else (k, v) for k, v in fields]
        value = b"; ".join(b"=".join(field) for field in fields) + self.linesep
        folded: bytes = dkim.fold(value, namelen=len(header_name), linesep=self.linesep)
        return folded
