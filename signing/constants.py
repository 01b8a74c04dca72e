"""Namespace and algorithm identifiers used by XML-DSig, XAdES and the trusted lists."""

from __future__ import annotations

from typing import Final

DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
DSIG11_NS: Final = "http://www.w3.org/2009/xmldsig11#"
# XAdES qualifying properties, SigningCertificateV2 included, live in the v1.3.2 namespace
# (ETSI EN 319 132-1 keeps the XAdES 1.3.2 namespace; only a few later elements use v1.4.1).
XADES_NS: Final = "http://uri.etsi.org/01903/v1.3.2#"
XADES141_NS: Final = "http://uri.etsi.org/01903/v1.4.1#"
TSL_NS: Final = "http://uri.etsi.org/02231/v2#"

# ETSI EN 319 132-1 (incorporation of signed qualifying properties): the ds:Reference to
# xades:SignedProperties carries this Type.
SIGNED_PROPERTIES_TYPE: Final = "http://uri.etsi.org/01903#SignedProperties"

C14N_10: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_10_COMMENTS: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
C14N_11: Final = "http://www.w3.org/2006/12/xml-c14n11"
C14N_11_COMMENTS: Final = "http://www.w3.org/2006/12/xml-c14n11#WithComments"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#sha384"
SHA512: Final = "http://www.w3.org/2001/04/xmlenc#sha512"

RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
ECDSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
ECDSA_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
ECDSA_SHA512: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"

# ETSI TS 119 612, 5.5.1 and 5.5.4: the service type of a CA issuing qualified certificates and the
# status "granted".
TSL_SERVICE_CA_QC: Final = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
TSL_STATUS_GRANTED: Final = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"


def ds(local: str) -> str:
    """Clark name of an XML-DSig element."""
    return f"{{{DS_NS}}}{local}"


def xades(local: str) -> str:
    """Clark name of a XAdES element."""
    return f"{{{XADES_NS}}}{local}"
