//! `#[endpoint]`: how Lotsen declares a server function.
//!
//! ```ignore
//! #[endpoint]
//! pub async fn unit_patients() -> Result<Vec<PatientRow>, AppError> {
//!     let principal = crate::auth::gate::enter(ENDPOINT)?;
//!     …
//! }
//! ```
//!
//! expands to Leptos's `#[server(endpoint = "unit_patients")]` with the body wrapped so that
//! - `ENDPOINT`, the gate's name for this function, is a constant made from the function's own
//!   name: a copied gate line cannot pick another function's policy row, and a typo cannot
//!   compile;
//! - every error the body returns passes through `crate::auth::gate::respond`, which gives the
//!   response its status (401, 403, 404, 409, 422, 503): no refusal depends on remembering to
//!   set it.
//!
//! Arguments are handed on to `#[server]` (`#[endpoint(input = Json)]`). Where the function's
//! name would clash with a type (Leptos names the function's argument struct after it), the
//! endpoint's name may be given first, once: `#[endpoint("patient_record")]` on
//! `get_patient_record`. It is then the route, the gate's name and the policy row alike.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ItemFn, parse_macro_input};

#[proc_macro_attribute]
pub fn endpoint(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut args = proc_macro2::TokenStream::from(attr).into_iter().peekable();
    let given = match args.peek() {
        Some(proc_macro2::TokenTree::Literal(_)) => {
            let literal = args.next().map(proc_macro2::TokenStream::from);
            match syn::parse2::<syn::LitStr>(literal.unwrap_or_default()) {
                Ok(name) => Some(name.value()),
                Err(error) => return error.to_compile_error().into(),
            }
        }
        _ => None,
    };
    if matches!(args.peek(), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ',') {
        args.next();
    }
    let args: proc_macro2::TokenStream = args.collect();
    if args.to_string().replace(' ', "").contains("endpoint=") {
        return syn::Error::new_spanned(
            args,
            "#[endpoint] names the endpoint after the function; do not give one",
        )
        .to_compile_error()
        .into();
    }
    let mut function = parse_macro_input!(item as ItemFn);
    if function.sig.asyncness.is_none() {
        return syn::Error::new_spanned(&function.sig, "a server function is async")
            .to_compile_error()
            .into();
    }
    let name = given.unwrap_or_else(|| function.sig.ident.to_string());
    let body = &function.block;
    *function.block = syn::parse_quote!({
        // Not allowed to go unused: a body that never calls the gate with it does not compile
        // (the workspace denies warnings).
        const ENDPOINT: crate::auth::gate::Endpoint = crate::auth::gate::Endpoint::of_function(#name);
        // Boxed: a body's future holds its database queries' futures, and a page's `Resource`
        // moves the future it is given several times before it runs (on the start page those
        // copies were an eighth of the instructions of a request).
        crate::auth::gate::respond(::std::boxed::Box::pin(async move #body)).await
    });
    let more = if args.is_empty() {
        quote!()
    } else {
        quote!(, #args)
    };
    quote!(
        #[::leptos::server(endpoint = #name #more)]
        #function
    )
    .into()
}
