"""The seed's two creates, a list, a patch, a connection check and a delete, through a client generated from docs/openapi.json.

Run by tests/client/run.sh, which generates the `pbx_client` package and starts the server. Each step checks the
status and what the generated models parsed; the last line says how many steps passed.
"""

import os
import sys
import uuid

from pbx_client import AuthenticatedClient
from pbx_client.api.connection_status import check_pbx
from pbx_client.api.customers import create_customer
from pbx_client.api.pbx_profiles import create_pbx, delete_pbx, get_pbx, list_pbxs, patch_pbx
from pbx_client.models import (
    NewCustomer,
    NewKazooPbxConnectionProfile,
    NewThreeCxConnectionProfile,
    PbxPatchSetEnabled,
)
from pbx_client.models.new_kazoo_pbx_connection_profile_type import NewKazooPbxConnectionProfileType
from pbx_client.models.new_three_cx_connection_profile_enable_recording_archive_type_1 import (
    NewThreeCxConnectionProfileEnableRecordingArchiveType1 as ArchiveFlag,
)
from pbx_client.models.new_three_cx_connection_profile_type import NewThreeCxConnectionProfileType
from pbx_client.models.pbx_patch_set_enabled_op import PbxPatchSetEnabledOp
from pbx_client.models.pbx_patch_set_enabled_path import PbxPatchSetEnabledPath

client = AuthenticatedClient(base_url=os.environ["PBX_URL"], token=os.environ["PBX_TOKEN"])
steps = []


def step(name, condition, detail):
    steps.append((name, bool(condition)))
    print(("ok    " if condition else "FAILED"), name, "" if condition else detail)


answer = create_customer.sync_detailed(client=client, body=NewCustomer(name="Generated client customer"))
step("create a customer: 201", answer.status_code == 201, answer.content)
customer = answer.parsed.data.id

# The seed's Kazoo request.
kazoo = NewKazooPbxConnectionProfile(
    field_type_=NewKazooPbxConnectionProfileType.KAZOOPBXCONNECTIONPROFILE,
    name="Clients ~.pbx.kazoo.name.~ Pbx",
    host_rest="https://rest.example.com",
    host_websocket="wss://ws.example.com",
    account_id=f"acct-{uuid.uuid4()}",
    api_key="ABCDEF",
)
answer = create_pbx.sync_detailed(customer, client=client, body=kazoo, accept_charges="true")
step("create the seed's Kazoo profile: 201", answer.status_code == 201, answer.content)
created = answer.parsed.data
step("the answer echoes the secret once", getattr(created, "api_key", None) == "ABCDEF", created)
kazoo_id = created.id

# The seed's 3CX request, its boolean as a string.
three_cx = NewThreeCxConnectionProfile(
    field_type_=NewThreeCxConnectionProfileType.THREECXCONNECTIONPROFILE,
    name="3CX Connexion",
    license_key=f"licenseKey-{uuid.uuid4()}",
    username="nom d'utilisateur-nom d'utilisateur-nom d'utilisateur",
    password="mot de passe mot de passe",
    enable_recording_archive=ArchiveFlag.TRUE,
    recording_archive_frequency="00:20:00",
)
answer = create_pbx.sync_detailed(customer, client=client, body=three_cx, accept_charges="true")
step("create the seed's 3CX profile: 201", answer.status_code == 201, answer.content)
three_cx_id = answer.parsed.data.id

answer = list_pbxs.sync_detailed(customer, client=client, page_size=10)
names = [item.name for item in answer.parsed.data] if answer.status_code == 200 else []
step("list: both profiles, oldest first", names == ["Clients ~.pbx.kazoo.name.~ Pbx", "3CX Connexion"], answer.content)

# The patch document names each field with the schema of its value: a generated client builds it typed.
enable = PbxPatchSetEnabled(op=PbxPatchSetEnabledOp.REPLACE, path=PbxPatchSetEnabledPath.VALUE_0, value=True)
answer = patch_pbx.sync_detailed(customer, kazoo_id, client=client, body=[enable], accept_charges="true", if_match='"1"')
step("patch: enable the Kazoo profile, 200", answer.status_code == 200 and answer.parsed.data.enabled, answer.content)
step("the patched profile shows no secret", b"apiKey" not in answer.content, answer.content)

# A connection check (§15): the seed's hosts do not resolve here, so the check fails with a reason the document names.
answer = check_pbx.sync_detailed(customer, kazoo_id, client=client)
connection = answer.parsed.data.connection if answer.status_code == 200 else None
step(
    "check the Kazoo profile: 200, failed with DnsFailure",
    connection is not None and connection.state.value == "failed" and connection.reason == "DnsFailure",
    answer.content,
)
answer = get_pbx.sync_detailed(customer, kazoo_id, client=client)
shown = answer.parsed.data.connection if answer.status_code == 200 else None
step("a get shows the check's conditions", shown is not None and shown.conditions[0].reason.value == "DnsFailure", answer.content)

answer = delete_pbx.sync_detailed(customer, three_cx_id, client=client)
step("delete the 3CX profile: 200", answer.status_code == 200, answer.content)
answer = get_pbx.sync_detailed(customer, three_cx_id, client=client)
step("it is gone: 404", answer.status_code == 404, answer.content)

passed = sum(1 for _, ok in steps if ok)
failed = len(steps) - passed
print(f"client: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
