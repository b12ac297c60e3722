#!/usr/bin/env python3
"""Avery's same-day license, in Python, through the bridge.

The seed's ``issue_license``: the fee (fee-calc /calculate), the charge
(payment /charge, once, even when issued again for the same application),
the PDF (license-printer /generate) and the inspectors' record (audit-log
/record), four calls in one trace, as the gateway identity over mTLS.

    make run     # in another terminal: the mesh on this machine
    python3 examples/python-gateway/gateway.py [--bridge https://127.0.0.1:8443] [--mesh-dir .mesh]

The bridge and credentials come from the flags, else from the environment
(HMS_BRIDGE_URL, HMS_MESH_DIR + HMS_IDENTITY, or HMS_CA_FILE, HMS_CERT_FILE,
HMS_KEY_FILE), else https://127.0.0.1:8443 and .mesh/gateway*.pem. Exits 0
with the license, 1 with the MeshError when a call fails, 2 for bad flags
or credentials.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid

try:
    import hms_svc
except ImportError:  # run from a checkout without PYTHONPATH set
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
    import hms_svc
from hms_svc import call

# The charge's idempotency key is derived from the application id in this
# namespace: issuing the license again for one application replays the
# first charge instead of charging twice.
CHARGES = uuid.UUID("6d3c1f0e-8b7a-5c4d-9e2f-1a0b3c4d5e6f")


def charge_key(payload: dict) -> uuid.UUID:
    """The payment's idempotency key for this application."""
    app_id = payload.get("application_id")
    return uuid.uuid5(CHARGES, str(app_id)) if app_id else uuid.uuid4()


def issue_license(payload: dict) -> dict:
    """Issue the license payload applies for; raises hms_svc.MeshError."""
    with hms_svc.trace():  # the four calls are one trace
        fee = call("fee-calc", "/calculate", payload)
        pay = call("payment", "/charge", {"amount": fee["amount"], "currency": fee["currency"]},
                   idempotency_key=charge_key(payload))
        doc = call("license-printer", "/generate", payload)
        call("audit-log", "/record", {
            "user": payload["ssn"],
            "fee": fee["amount"],
            "doc_id": doc["id"],
        })
    return {"license_pdf": doc["url"], "receipt": pay["txn"], "fee": fee["amount"], "currency": fee["currency"]}


def client_from_flags(args: argparse.Namespace) -> hms_svc.Client:
    """The bridge client the flags (else the environment, else the
    defaults of ``make run``) describe."""
    env = os.environ.get
    url = args.bridge or env("HMS_BRIDGE_URL") or "https://127.0.0.1:8443"
    opts = dict(timeout=args.timeout, retries=2)
    if args.ca or args.cert or args.key:
        return hms_svc.Client(url, ca_file=args.ca, cert_file=args.cert, key_file=args.key, **opts)
    if args.mesh_dir is None and env("HMS_CA_FILE"):
        return hms_svc.Client(url, ca_file=env("HMS_CA_FILE"), cert_file=env("HMS_CERT_FILE"),
                              key_file=env("HMS_KEY_FILE"), **opts)
    mesh_dir = args.mesh_dir or env("HMS_MESH_DIR") or ".mesh"
    return hms_svc.Client(url, mesh_dir=mesh_dir, identity=args.identity or env("HMS_IDENTITY") or "gateway", **opts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Issue Avery's license through the bridge, in Python.")
    ap.add_argument("--bridge", help="bridge URL (env HMS_BRIDGE_URL; default https://127.0.0.1:8443)")
    ap.add_argument("--mesh-dir", help="credentials folder of meshctl init (env HMS_MESH_DIR; default .mesh)")
    ap.add_argument("--identity", help="identity whose certificate is presented (env HMS_IDENTITY; default gateway)")
    ap.add_argument("--ca", help="mesh CA file (instead of --mesh-dir)")
    ap.add_argument("--cert", help="client certificate file (instead of --mesh-dir)")
    ap.add_argument("--key", help="client key file (instead of --mesh-dir)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds each call may take (default 5)")
    ap.add_argument("--name", default="Avery Johnson", help="applicant's name")
    ap.add_argument("--ssn", default="123-45-6789", help="applicant's SSN")
    ap.add_argument("--license-type", default="professional-engineer", help="license applied for")
    ap.add_argument("--application-id", type=uuid.UUID, default=None,
                    help="the application (a UUID; default a new one): the same id is charged once")
    args = ap.parse_args(argv)
    try:
        hms_svc.set_default_client(client_from_flags(args))
    except hms_svc.ConfigError as e:
        print(f"gateway: {e.message}", file=sys.stderr)
        return 2
    app_id = args.application_id or uuid.uuid4()
    payload = {"application_id": str(app_id), "name": args.name, "ssn": args.ssn, "license_type": args.license_type}
    with hms_svc.trace() as t:
        try:
            issued = issue_license(payload)
        except hms_svc.MeshError as e:
            print(f"gateway: issuing the license: {e}", file=sys.stderr)
            if e.request_id:
                print(f"gateway: request id {e.request_id}", file=sys.stderr)
            return 1
    bridge = hms_svc.default_client().endpoint.url
    print(f"license:     {bridge}{issued['license_pdf']}")
    print(f"receipt:     {issued['receipt']}")
    print(f"fee:         {issued['fee']} {issued['currency']}")
    print(f"application: {app_id} (again with --application-id {app_id}: the same charge, not a second one)")
    answered = {c.trace_id for c in t.calls}
    if answered != {t.trace_id}:
        print(f"gateway: the calls were traced as {sorted(answered)}, not as the one trace {t.trace_id}", file=sys.stderr)
        return 1
    print(f"trace:       {t.trace_id} ({len(t.calls)} calls, one trace; its hops: GET {bridge}/v1/traces/{t.trace_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
