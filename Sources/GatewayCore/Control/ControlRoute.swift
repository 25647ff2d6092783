import NIOHTTP1
import Tokens

/// One endpoint of the control plane as data, the way hummingbird's router holds a route: the methods it answers,
/// its path, the `[rate_limit]` bucket it spends, and its handler, a function of `Context` (the endpoints that own
/// the dependencies). What the handler takes says what `AuthEndpoints` does before calling it.
struct ControlRoute<Context>: Sendable {
    /// The bucket a request spends before its handler runs.
    enum RateLimit: Sendable, Equatable {
        case none
        /// `[rate_limit] auth_*`, per client address (`ClientAddress`): checked before anything else is read.
        case authPerClientAddress
        /// `[rate_limit] phone_*`, per user (appid and openid), once the bearer token is verified: each call spends
        /// the app's daily WeChat quota, which one user behind many addresses must not exhaust, and many users
        /// behind one NAT must not share.
        case phonePerUser
    }

    /// A handler that refuses throws the `OAuthError` to answer with.
    typealias PlainHandler = @Sendable (Context) -> (ControlRequest) async -> ControlResponse
    typealias FormHandler =
        @Sendable (Context) -> (ControlRequest, FormBody) async throws(OAuthError) -> ControlResponse
    typealias BearerHandler =
        @Sendable (Context) -> (ControlRequest, VerifiedClaims) async throws(OAuthError) -> ControlResponse
    typealias BearerFormHandler =
        @Sendable (Context) -> (ControlRequest, VerifiedClaims, FormBody) async throws(OAuthError) -> ControlResponse

    /// The handler, by what it needs from the request.
    enum Handler: Sendable {
        /// The request as it came (the JWKS).
        case plain(PlainHandler)
        /// The body's parameters (`FormBody`: a form or a JSON object).
        case form(FormHandler)
        /// The bearer token's verified claims (RFC 6750).
        case bearer(BearerHandler)
        /// The bearer token's claims, then the body's parameters.
        case bearerForm(BearerFormHandler)

        /// Whether the handler needs a bearer token; for tests and the docs' table.
        var needsBearerToken: Bool {
            switch self {
            case .plain, .form: return false
            case .bearer, .bearerForm: return true
            }
        }

        /// Whether the handler reads the body's parameters.
        var readsForm: Bool {
            switch self {
            case .plain, .bearer: return false
            case .form, .bearerForm: return true
            }
        }
    }

    let methods: [HTTPMethod]
    let path: String
    let rateLimit: RateLimit
    let handler: Handler

    init(_ methods: [HTTPMethod], _ path: String, rateLimit: RateLimit = .none, _ handler: Handler) {
        self.methods = methods
        self.path = path
        self.rateLimit = rateLimit
        self.handler = handler
    }
}
