"""The certificate revocation lists the documents' signatures are checked against (`[hub] signature_crls`: a
CRL file or a folder of them), read again whenever a file is added, removed or replaced, as the TLS `client_crl`
is: an office's CA publishes a new CRL, an operator drops it into the folder, and the next upload is verified
against it. Before, the lists were read once at start, so a signer revoked meanwhile still delivered certificates
until the hub was restarted, and a list that expired while the hub ran refused every upload until a restart.

A file that is not a CRL (a download cut short, a certificate put there by mistake) is refused, never skipped:
skipped, a revoking list cut by 20 bytes left the revoked signer accepted. At start that stops the hub; while it
serves, signatures are not verified (a configuration error) until the folder is mended."""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography import x509

from contract.errors import ConfigurationError
from signing import load_crls

__all__ = ["CrlFolder"]

_State = tuple[tuple[str, int, int, int], ...]


class CrlFolder:
    """The CRLs of one file or folder, with what the files were when read (name, inode, size, modification time)."""

    def __init__(self, location: Path, label: str) -> None:
        self.location, self.label = location, label
        self.crls: tuple[x509.CertificateRevocationList, ...] = ()
        self._seen: _State | None = None
        self._lock = threading.Lock()
        self.refresh()

    def _files(self) -> list[Path]:
        if self.location.is_dir():
            return sorted(path for path in self.location.iterdir() if path.is_file())
        return [self.location]

    def _state(self, files: list[Path]) -> _State:
        state = []
        for path in files:
            found = path.stat()
            state.append((path.name, found.st_ino, found.st_size, found.st_mtime_ns))
        return tuple(state)

    def refresh(self) -> bool:
        """Read the lists again if a file changed since they were read; True if they were read now.

        A `ConfigurationError` (Polish, naming the setting and the file) if one cannot be read or is not a CRL;
        the lists read before are then not used either, so nothing is verified against a list known to be stale."""
        try:
            files = self._files()
            state = self._state(files)
        except OSError as error:
            raise ConfigurationError(
                f"{self.label}: nie można odczytać list CRL z {self.location} ({error.strerror or error})."
            ) from None
        if state == self._seen:
            return False
        with self._lock:
            if state == self._seen:
                return False
            crls: list[x509.CertificateRevocationList] = []
            for path in files:
                try:
                    data = path.read_bytes()
                except OSError as error:
                    raise ConfigurationError(
                        f"{self.label}: nie można odczytać listy CRL {path.name} ({error.strerror or error})."
                    ) from None
                parsed = load_crls([data])
                if not parsed:
                    raise ConfigurationError(
                        f"{self.label}: plik {path.name} w {self.location} nie jest listą CRL (PEM ani DER) albo jest "
                        "niepełny; popraw go albo usuń. Do tego czasu podpisów nie weryfikuje się."
                    )
                crls.extend(parsed)
            self.crls, self._seen = tuple(crls), state
        return True
