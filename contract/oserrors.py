"""Why a file could not be read or written (or a socket opened), in Polish: `OSError.strerror` is the C
library's English ("No such file or directory"), and a clerk or an operator reads Polish messages only."""

from __future__ import annotations

import errno

_REASONS = {
    errno.ENOENT: "nie ma takiego pliku lub katalogu",
    errno.EACCES: "brak uprawnień",
    errno.EPERM: "operacja niedozwolona",
    errno.EISDIR: "to jest katalog, nie plik",
    errno.ENOTDIR: "część ścieżki nie jest katalogiem",
    errno.EEXIST: "plik już istnieje",
    errno.ENOSPC: "brak miejsca na dysku",
    errno.EROFS: "system plików jest tylko do odczytu",
    errno.ENAMETOOLONG: "za długa nazwa pliku",
    errno.ELOOP: "zbyt wiele dowiązań symbolicznych",
    errno.EMFILE: "zbyt wiele otwartych plików",
    errno.EIO: "błąd wejścia-wyjścia",
    errno.EBUSY: "plik jest zajęty",
    errno.ETXTBSY: "plik jest zajęty",
    errno.EINVAL: "nieprawidłowa operacja na tym pliku",
    errno.EPIPE: "odbiorca zamknął potok",
    errno.EDQUOT: "przekroczony przydział miejsca na dysku",
    errno.EFBIG: "plik przekroczyłby największy dozwolony rozmiar",
    errno.EADDRINUSE: "adres i port są już zajęte przez inny proces",
    errno.EADDRNOTAVAIL: "tego adresu nie ma na tym komputerze",
    errno.ECONNREFUSED: "połączenie odrzucone",
    errno.ETIMEDOUT: "przekroczony czas oczekiwania na połączenie",
    errno.EHOSTUNREACH: "host jest nieosiągalny",
    errno.ENETUNREACH: "sieć jest nieosiągalna",
}


def reason(error: OSError) -> str:
    """A short Polish reason for `error` (its errno), e.g. "nie ma takiego pliku lub katalogu"."""
    known = _REASONS.get(error.errno) if error.errno is not None else None
    if known is not None:
        return known
    name = errno.errorcode.get(error.errno, "") if error.errno is not None else ""
    return f"błąd systemowy {name}" if name else "błąd systemowy"
