// Inrupt's Access Grants SDK against our server: a requester asks, the owner approves,
// the requester reads and writes with the grant, the owner revokes, the next use fails.
// Usage: node access_grants_check.mjs ISSUER OWNER_ID OWNER_SECRET REQ_ID REQ_SECRET POD
//   -> one JSON line of what each call gave.
import { Session } from "@inrupt/solid-client-authn-node";
import {
  buildThing, createSolidDataset, createThing, overwriteFile, saveSolidDatasetAt, setThing,
  getThing, getStringNoLocale, getSolidDataset as ownDataset,
} from "@inrupt/solid-client";
import {
  approveAccessRequest, cancelAccessRequest, denyAccessRequest, getAccessApiEndpoint, getAccessGrant,
  getAccessGrantAll, getAccessRequest, getFile, getSolidDataset, isValidAccessGrant,
  issueAccessGrant, issueAccessRequest, revokeAccessGrant, query, paginatedQuery,
  redirectToAccessManagementUi, getAccessRequestFromRedirectUrl, redirectToRequestor,
  getAccessManagementUi,
  getAccessGrantFromRedirectUrl,
  saveSolidDatasetAt as saveWithGrant,
} from "@inrupt/solid-client-access-grants";

const [issuer, ownerId, ownerSecret, reqId, reqSecret, pod] = process.argv.slice(2);
const NAME = "http://schema.org/name";
const result = {};
const login = async (clientId, clientSecret) => {
  const session = new Session();
  await session.login({ oidcIssuer: issuer, clientId, clientSecret });
  return session;
};
const owner = await login(ownerId, ownerSecret);
const requester = await login(reqId, reqSecret);
const attempt = async (name, call) => {
  try {
    result[name] = await call();
  } catch (e) {
    result[name] = { error: String(e.message ?? e).slice(0, 300) };
  }
};

const note = `${pod}shared/note.txt`;
const doc = `${pod}shared/data.ttl`;
await overwriteFile(note, Buffer.from("a shared note"), { contentType: "text/plain", fetch: owner.fetch });
await saveSolidDatasetAt(
  doc,
  setThing(createSolidDataset(), buildThing(createThing({ name: "it" })).addStringNoLocale(NAME, "one").build()),
  { fetch: owner.fetch },
);
const inAnHour = new Date(Date.now() + 3600_000);

await attempt("endpoint", () => getAccessApiEndpoint(note));
const request = await issueAccessRequest(
  { access: { read: true, write: true }, resources: [note, doc], resourceOwner: owner.info.webId, expirationDate: inAnHour },
  { fetch: requester.fetch },
);
result.requestId = request.id;
await attempt("requestSeenByOwner", async () => (await getAccessRequest(request.id, { fetch: owner.fetch })).id);
// A partial approval: read only, on both resources.
const grant = await approveAccessRequest(request.id, { access: { read: true } }, { fetch: owner.fetch, updateAcr: false });
result.grantId = grant.id;
await attempt("grantFetched", async () => (await getAccessGrant(grant.id, { fetch: requester.fetch })).id);
await attempt("valid", async () => (await isValidAccessGrant(grant, { fetch: requester.fetch })).errors);
await attempt("grantsForNote", async () => (await getAccessGrantAll({ resource: note }, { fetch: requester.fetch })).map((g) => g.id));
await attempt("fileText", async () => (await (await getFile(note, grant, { fetch: requester.fetch })).text()));
await attempt("datasetName", async () => getStringNoLocale(getThing(await getSolidDataset(doc, grant, { fetch: requester.fetch }), `${doc}#it`), NAME));
// Read only: a write with the grant is refused.
await attempt("writeWithReadGrant", async () => {
  await saveWithGrant(doc, createSolidDataset(), grant, { fetch: requester.fetch });
  return "written";
});
// The grant presented by another WebID (the owner) is refused at the token endpoint.
await attempt("otherHolder", async () => (await (await getFile(note, grant, { fetch: owner.fetch })).text()));
// An altered grant fails verification.
const altered = JSON.parse(JSON.stringify(grant));
altered.credentialSubject.providedConsent.forPersonalData = [`${pod}`];
await attempt("alteredValid", async () => (await isValidAccessGrant(altered, { fetch: requester.fetch })).errors.length);

// A forged proof (another signature value) fails verification and gets no token.
const forged = JSON.parse(JSON.stringify(grant));
forged.proof.proofValue = `z${"3".repeat(86)}`;
await attempt("forgedValid", async () => (await isValidAccessGrant(forged, { fetch: requester.fetch })).errors.length);
await attempt("forgedUse", async () => (await (await getFile(note, forged, { fetch: requester.fetch })).text()));

// An expired grant: granted for two seconds, used after three.
await attempt("expired", async () => {
  const soon = await issueAccessRequest(
    { access: { read: true }, resources: [note], resourceOwner: owner.info.webId, expirationDate: new Date(Date.now() + 2000) },
    { fetch: requester.fetch },
  );
  const brief = await approveAccessRequest(soon.id, undefined, { fetch: owner.fetch, updateAcr: false });
  const before = await (await getFile(note, brief, { fetch: requester.fetch })).text();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  try {
    await getFile(note, brief, { fetch: requester.fetch });
    return [before, "still readable"];
  } catch (e) {
    return [before, "refused"];
  }
});

// A second request, approved for writing, then used to save a dataset.
const writeRequest = await issueAccessRequest(
  { access: { read: true, write: true }, resources: [doc], resourceOwner: owner.info.webId, expirationDate: inAnHour },
  { fetch: requester.fetch },
);
const writeGrant = await approveAccessRequest(writeRequest.id, undefined, { fetch: owner.fetch, updateAcr: false });
await attempt("written", async () => {
  const ds = await getSolidDataset(doc, writeGrant, { fetch: requester.fetch });
  const it = getThing(ds, `${doc}#it`);
  await saveWithGrant(doc, setThing(ds, buildThing(it).setStringNoLocale(NAME, "two").build()), writeGrant, { fetch: requester.fetch });
  return getStringNoLocale(getThing(await ownDataset(doc, { fetch: owner.fetch }), `${doc}#it`), NAME);
});

// Denial of a third request.
const denied = await issueAccessRequest(
  { access: { read: true }, resources: [doc], resourceOwner: owner.info.webId },
  { fetch: requester.fetch },
);
await attempt("denial", async () => (await denyAccessRequest(denied.id, { fetch: owner.fetch })).type);

// cancelAccessRequest: the requester takes back a pending request; it can no longer be approved.
await attempt("cancelled", async () => {
  const pending = await issueAccessRequest(
    { access: { read: true }, resources: [note], resourceOwner: owner.info.webId },
    { fetch: requester.fetch },
  );
  await cancelAccessRequest(pending, { fetch: requester.fetch });
  try {
    await approveAccessRequest(pending.id, undefined, { fetch: owner.fetch, updateAcr: false });
    return "approved after cancel";
  } catch (e) {
    return "not approvable";
  }
});

// issueAccessGrant: the owner grants without a request.
await attempt("issuedDirectly", async () => {
  const direct = await issueAccessGrant(
    { requestor: requester.info.webId, access: { read: true }, resources: [note], expirationDate: inAnHour },
    { fetch: owner.fetch },
  );
  return (await (await getFile(note, direct, { fetch: requester.fetch })).text());
});

// query and paginatedQuery (the VC service's filtered GET with paging Links).
const queryEndpoint = new URL(`${result.endpoint}query`);
await attempt("activeGrants", async () => (await query({ type: "SolidAccessGrant", status: "Active" }, { fetch: requester.fetch, queryEndpoint })).items.length);
await attempt("pagedRequests", async () => {
  const sizes = [];
  for await (const page of paginatedQuery({ type: "SolidAccessRequest", pageSize: 2 }, { fetch: owner.fetch, queryEndpoint })) {
    sizes.push(page.items.length);
  }
  return sizes;
});

await attempt("managementUi", async () => (await getAccessManagementUi(owner.info.webId, { fetch: requester.fetch })) ?? null);

// The redirect helpers: to the owner's access management page and back to the requester.
// No page is advertised yet, so the requester names one; the callbacks catch the URLs.
await attempt("redirects", async () => {
  const pending = await issueAccessRequest(
    { access: { read: true }, resources: [doc], resourceOwner: owner.info.webId },
    { fetch: requester.fetch },
  );
  // Both helpers redirect and never resolve (a browser leaves the page): the callback is
  // the result.
  const toOwner = await new Promise((resolve, reject) => {
    redirectToAccessManagementUi(pending.id, "https://app.example/back", {
      fetch: requester.fetch,
      fallbackAccessManagementUi: `${pod}consent-page`,
      redirectCallback: resolve,
    }).catch(reject);
  });
  const seen = await getAccessRequestFromRedirectUrl(toOwner, { fetch: owner.fetch });
  const approved = await approveAccessRequest(seen.accessRequest, undefined, { fetch: owner.fetch, updateAcr: false });
  const back = await new Promise((resolve, reject) => {
    redirectToRequestor(approved.id, seen.requestorRedirectUrl, { redirectCallback: resolve }).catch(reject);
  });
  const returned = await getAccessGrantFromRedirectUrl(back, { fetch: requester.fetch });
  return { sameRequest: seen.accessRequest.id === pending.id, sameGrant: returned.id === approved.id };
});

// Revocation ends the grant at once.
await revokeAccessGrant(grant, { fetch: owner.fetch });
await attempt("afterRevoke", async () => (await (await getFile(note, grant, { fetch: requester.fetch })).text()));
await attempt("validAfterRevoke", async () => (await isValidAccessGrant(grant, { fetch: requester.fetch })).errors.length);
await owner.logout();
await requester.logout();
console.log(JSON.stringify(result));
