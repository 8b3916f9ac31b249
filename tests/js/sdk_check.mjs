// Log in with client credentials and use a pod through Inrupt's SDKs, as Node apps do.
// Usage: node sdk_check.mjs ISSUER CLIENT_ID CLIENT_SECRET POD_URL  -> one JSON line.
import { Session } from "@inrupt/solid-client-authn-node";
import {
  buildThing, createSolidDataset, createThing, getContainedResourceUrlAll, getFile,
  getSolidDataset, getStringNoLocale, getThing, overwriteFile, saveSolidDatasetAt,
  setThing, universalAccess, deleteFile,
} from "@inrupt/solid-client";

const [issuer, clientId, clientSecret, pod] = process.argv.slice(2);
const NAME = "http://schema.org/name";
const result = {};
const session = new Session();
await session.login({ oidcIssuer: issuer, clientId, clientSecret });
result.loggedIn = session.info.isLoggedIn;
result.webId = session.info.webId;
const fetch = session.fetch;

const doc = `${pod}sdk/profile.ttl`;
let dataset = setThing(
  createSolidDataset(),
  buildThing(createThing({ name: "me" })).addStringNoLocale(NAME, "Alice").build(),
);
await saveSolidDatasetAt(doc, dataset, { fetch });
dataset = await getSolidDataset(doc, { fetch });
const me = getThing(dataset, `${doc}#me`);
result.nameAfterCreate = getStringNoLocale(me, NAME);
dataset = setThing(dataset, buildThing(me).setStringNoLocale(NAME, "Alice B").build());
await saveSolidDatasetAt(doc, dataset, { fetch }); // sends a SPARQL Update PATCH
result.nameAfterUpdate = getStringNoLocale(
  getThing(await getSolidDataset(doc, { fetch }), `${doc}#me`), NAME,
);

await overwriteFile(`${pod}sdk/hello.txt`, Buffer.from("hello pod"), { contentType: "text/plain", fetch });
result.fileText = await (await getFile(`${pod}sdk/hello.txt`, { fetch })).text();
result.contained = getContainedResourceUrlAll(await getSolidDataset(`${pod}sdk/`, { fetch })).sort();

// Sharing through WAC: the SDK finds the ACL from Link headers and writes a new one.
result.publicAccess = await universalAccess.setPublicAccess(doc, { read: true }, { fetch });
result.anonymousRead = (await globalThis.fetch(doc)).status;
await deleteFile(`${pod}sdk/hello.txt`, { fetch });
result.afterDelete = (await fetch(`${pod}sdk/hello.txt`)).status;
await session.logout();
console.log(JSON.stringify(result));
