// Gatehouse WebAuthn ceremonies: add a passkey (account page, or during a
// login that must enrol a factor), use one as the second step of a login,
// or sign in with one alone. No inline script and no framework: buttons
// carry data-webauthn="register", "enrol", "second-factor" or
// "passwordless" and stay hidden where WebAuthn is unavailable. The
// server keeps each ceremony's state; this only converts between the JSON
// it sends (base64url) and the browser's ArrayBuffers.
(() => {
  "use strict";

  const decode = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buf) => {
    let bin = "";
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `The server answered ${res.status}.`);
    return data;
  }

  function creation(options) {
    const pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    pk.user.id = decode(pk.user.id);
    for (const c of pk.excludeCredentials || []) c.id = decode(c.id);
    return { publicKey: pk };
  }

  // Always a modal request: the button is the user's explicit choice.
  function request(options) {
    const pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    for (const c of pk.allowCredentials || []) c.id = decode(c.id);
    return { publicKey: pk };
  }

  function attestation(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: encode(r.attestationObject),
        clientDataJSON: encode(r.clientDataJSON),
        transports: typeof r.getTransports === "function" ? r.getTransports() : undefined,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  function assertion(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: encode(r.authenticatorData),
        clientDataJSON: encode(r.clientDataJSON),
        signature: encode(r.signature),
        userHandle: r.userHandle ? encode(r.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  const field = (name) => document.querySelector(`input[name="${name}"]`)?.value || "";

  const flows = {
    async register(csrf) {
      const name = document.getElementById("passkey-name")?.value || "";
      const password = document.getElementById("passkey-password")?.value || "";
      const begun = await post("/account/passkeys/begin", { csrf, password });
      const cred = await navigator.credentials.create(creation(begun.options));
      return post("/account/passkeys/finish", { csrf, ceremony: begun.ceremony, name, credential: attestation(cred) });
    },
    async enrol(csrf) {
      const begun = await post("/login/mfa/enrol/passkey/begin", { csrf });
      const cred = await navigator.credentials.create(creation(begun.options));
      return post("/login/mfa/enrol/passkey/finish", { csrf, ceremony: begun.ceremony, credential: attestation(cred) });
    },
    async "second-factor"(csrf) {
      const begun = await post("/login/mfa/passkey/begin", { csrf });
      const cred = await navigator.credentials.get(request(begun.options));
      return post("/login/mfa/passkey/finish", { csrf, ceremony: begun.ceremony, credential: assertion(cred) });
    },
    async passwordless(csrf) {
      const begun = await post("/login/passkey/begin", { csrf });
      const cred = await navigator.credentials.get(request(begun.options));
      return post("/login/passkey/finish", {
        csrf,
        ceremony: begun.ceremony,
        request: field("request"),
        credential: assertion(cred),
      });
    },
  };

  // A first factor comes with recovery codes, shown once on this page.
  function showCodes(done) {
    const section = document.getElementById("webauthn-codes");
    if (!section || !done.recovery_codes || done.recovery_codes.length === 0) return false;
    const list = section.querySelector("ul");
    for (const code of done.recovery_codes) {
      const item = document.createElement("li");
      const text = document.createElement("code");
      text.textContent = code;
      item.append(text);
      list.append(item);
    }
    section.querySelector("a").href = done.next;
    section.hidden = false;
    section.scrollIntoView();
    return true;
  }

  for (const button of document.querySelectorAll("[data-webauthn]")) {
    const flow = flows[button.dataset.webauthn];
    if (!flow || !window.PublicKeyCredential) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const status = document.getElementById("webauthn-status");
      button.disabled = true;
      try {
        const done = await flow(field("csrf"));
        if (!showCodes(done)) window.location.assign(done.next);
      } catch (e) {
        if (status) {
          status.textContent = e.name === "NotAllowedError" ? "Cancelled or timed out. Try again." : e.message;
          status.hidden = false;
        }
        button.disabled = false;
      }
    });
  }
})();
