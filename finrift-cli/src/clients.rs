//! `finrift clients`: register, list, show and remove clients, through the storage
//! traits only, so every backend gets the same commands.

use std::io::Write;

use oauth_core::{
    Client, ClientId, ClientKind, ClientStore, RandomSource, ScopeSet, MAX_CLIENT_PAGE,
};

use crate::cli::{AddArgs, ClientsCommand};
use crate::error::CliError;
use crate::note;

/// Runs one `clients` command on `store`, writing its answer to `out`.
pub async fn run<S: ClientStore + ?Sized>(
    store: &S,
    command: &ClientsCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        ClientsCommand::Add(args) => add(store, args, out).await,
        ClientsCommand::List => list(store, out).await,
        ClientsCommand::Show(arg) => show(store, &client_id(&arg.id)?, out).await,
        ClientsCommand::Remove(arg) => remove(store, &client_id(&arg.id)?, out).await,
    }
}

fn client_id(id: &str) -> Result<ClientId, CliError> {
    ClientId::new(id).map_err(|e| CliError::new(format!("invalid client id: {e}")))
}

/// Builds the registration `args` describe and stores it; prints a confidential client's
/// new secret, once.
async fn add<S: ClientStore + ?Sized>(
    store: &S,
    args: &AddArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let id = client_id(&args.id)?;
    // Not atomic: another admin may register the same id between this read and the
    // write below, and the later write wins. The store has no insert-if-absent, and two
    // admins adding one id at the same moment is a mistake this check need not referee.
    let previous = store
        .get_client(&id)
        .await
        .map_err(|e| CliError::storage("read the client registry", &e))?;
    if previous.is_some() && !args.replace {
        return Err(CliError::new(format!(
            "a client `{id}` is already registered: pass --replace to replace its \
             registration (a confidential client then gets a new secret)"
        )));
    }

    let secret = if args.public {
        None
    } else {
        // The core's generator: 256 random bits, base64url, as the engine's own tokens.
        let secret = RandomSource::new()
            .secret()
            .map_err(|_| CliError::new("the system's random generator failed"))?;
        Some(secret)
    };
    let client = build(args, secret.as_deref())?;
    let kind = if client.is_confidential() {
        "confidential"
    } else {
        "public"
    };
    store
        .put_client(client)
        .await
        .map_err(|e| CliError::storage("store the client", &e))?;

    let Some(secret) = secret else {
        return writeln!(out, "client `{id}` registered ({kind})")
            .and_then(|()| out.flush())
            .map_err(|e| CliError::output(&e));
    };
    if let Err(error) = writeln!(out, "{secret}").and_then(|()| out.flush()) {
        // A secret nobody saw is a client nobody can use: put back what was there, so a
        // retry starts from the same registry.
        let undone = match previous {
            Some(old) => store.put_client(old).await,
            None => store.remove_client(&id).await.map(|_| ()),
        };
        let outcome = match undone {
            Ok(()) => "the registration was undone",
            Err(_) => "undoing the registration failed too: remove or replace it",
        };
        return Err(CliError::new(format!(
            "cannot write the new secret to standard output ({error}); {outcome}"
        )));
    }
    note(&format!(
        "client `{id}` registered ({kind}); its secret, on standard output, is shown this once: \
         the store keeps only its hash"
    ));
    Ok(())
}

/// The registration `args` describe, checked by the core's builder.
fn build(args: &AddArgs, secret: Option<&str>) -> Result<Client, CliError> {
    let refused = |e| CliError::client(&args.id, &e);
    let mut builder = match secret {
        Some(secret) => Client::confidential(args.id.as_str(), secret),
        None => Client::public(args.id.as_str()),
    }
    .map_err(refused)?;
    for uri in &args.redirect_uris {
        builder = builder.redirect_uri(uri.as_str()).map_err(refused)?;
    }
    if !args.grants.is_empty() {
        builder = builder.grant_types(args.grants.iter().map(|g| g.grant_type()));
    }
    builder
        .allowed_scopes(scopes(&args.scopes)?)
        .default_scopes(scopes(&args.default_scopes)?)
        .build()
        .map_err(refused)
}

/// The scope set of every value given, each one scope or several separated by spaces.
fn scopes(values: &[String]) -> Result<ScopeSet, CliError> {
    let text = values.join(" ");
    if text.trim().is_empty() {
        return Ok(ScopeSet::empty());
    }
    ScopeSet::parse(&text).map_err(|e| CliError::new(format!("invalid scope: {e}")))
}

/// Prints every client, one line each, paging through the registry.
async fn list<S: ClientStore + ?Sized>(store: &S, out: &mut dyn Write) -> Result<(), CliError> {
    let mut after: Option<ClientId> = None;
    let mut count = 0usize;
    loop {
        let page = store
            .list_clients(after.as_ref(), MAX_CLIENT_PAGE)
            .await
            .map_err(|e| CliError::storage("list the clients", &e))?;
        for client in &page {
            writeln!(out, "{}", summary(client)).map_err(|e| CliError::output(&e))?;
        }
        count += page.len();
        let Some(last) = page.last() else { break };
        if page.len() < MAX_CLIENT_PAGE {
            break;
        }
        // A page that does not move past `after` would repeat forever.
        if after.as_ref().is_some_and(|after| last.id() <= after) {
            return Err(CliError::new(
                "the store listed clients out of order; the list above may be incomplete",
            ));
        }
        after = Some(last.id().clone());
    }
    out.flush().map_err(|e| CliError::output(&e))?;
    note(&format!(
        "{count} client{}",
        if count == 1 { "" } else { "s" }
    ));
    Ok(())
}

/// One client's line: id, kind, grant types, scopes, tab-separated (a client id may hold
/// spaces but no tab; a scope holds neither).
fn summary(client: &Client) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        client.id(),
        kind_name(client),
        or_dash(grant_names(client).join(",")),
        or_dash(client.allowed_scopes().to_string()),
    )
}

/// Prints every field of a client's registration, its secret's hash excepted.
async fn show<S: ClientStore + ?Sized>(
    store: &S,
    id: &ClientId,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let client = store
        .get_client(id)
        .await
        .map_err(|e| CliError::storage("read the client", &e))?
        .ok_or_else(|| CliError::new(format!("no client `{id}` is registered")))?;
    let (kind, secret) = match client.kind() {
        ClientKind::Public => ("public", "none"),
        ClientKind::ConfidentialPassword { .. } => (
            "confidential (a human-chosen secret, PBKDF2)",
            "set (hashed)",
        ),
        ClientKind::PrivateKeyJwt { .. } => (
            "confidential (private_key_jwt: signed assertions, its public keys registered)",
            "none (no secret: it authenticates with its keys)",
        ),
        _ => ("confidential", "set (hashed)"),
    };
    let mut text = format!("id: {}\nkind: {kind}\nsecret: {secret}\n", client.id());
    if client.redirect_uris().is_empty() {
        text.push_str("redirect_uri: -\n");
    }
    for uri in client.redirect_uris() {
        text.push_str(&format!("redirect_uri: {}\n", uri.as_str()));
    }
    text.push_str(&format!(
        "grant_types: {}\nallowed_scopes: {}\ndefault_scopes: {}\npkce: {}\n",
        or_dash(grant_names(&client).join(" ")),
        or_dash(client.allowed_scopes().to_string()),
        or_dash(client.default_scopes().to_string()),
        if client.danger_pkce_optional() {
            "optional (danger: allowed to skip PKCE)"
        } else {
            "required"
        },
    ));
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))
}

/// Removes a client; an unknown id is an error.
async fn remove<S: ClientStore + ?Sized>(
    store: &S,
    id: &ClientId,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let removed = store
        .remove_client(id)
        .await
        .map_err(|e| CliError::storage("remove the client", &e))?;
    if !removed {
        return Err(CliError::new(format!("no client `{id}` is registered")));
    }
    writeln!(out, "client `{id}` removed")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::output(&e))
}

fn kind_name(client: &Client) -> &'static str {
    if client.is_confidential() {
        "confidential"
    } else {
        "public"
    }
}

fn grant_names(client: &Client) -> Vec<&'static str> {
    client.grant_types().iter().map(|g| g.as_str()).collect()
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}
