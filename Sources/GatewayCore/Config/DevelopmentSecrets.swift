/// The secrets the shipped `gateway.conf` falls back to when its environment variables are unset, and the rule
/// that keeps them off a listener other machines can reach.
///
/// Anyone who has read the repository knows these values: with the token secret they can sign an access token
/// for any openid, with the app secret they can ask WeChat for sessions in the app's name. On a loopback
/// listener (`gateway demo`, a developer's machine) nobody else can reach the gateway, so they are fine there.
/// Pure, so `serve` decides before anything is bound and a reload before anything is swapped.
public enum DevelopmentSecrets {
    /// `[tokens] secret` of the shipped gateway.conf (`${GATEWAY_TOKEN_SECRET:-…}`).
    public static let tokenSecret = "dev-only-change-me-0123456789abcdef"
    /// `[[wechat.apps]] secret` of the shipped gateway.conf (`${WECHAT_APP_SECRET:-…}`).
    public static let wechatAppSecret = "dev-secret"

    /// One message per development secret in `config` when its listener is exposed (`ListenerExposure`: not
    /// loopback, behind `trusted_proxies`, or serving TLS); empty when it is private or no development secret is
    /// set. Messages name the key and how to set it, never the secret. `serve` refuses to start on them and a
    /// reload is refused on them (the running configuration stays).
    public static func problems(in config: GatewayConfiguration) -> [String] {
        guard let reason = ListenerExposure(config.server).reason else { return [] }
        let exposure = "while \(reason)"
        var found: [String] = []
        if config.tokens.signingKey == .secret(tokenSecret) {
            found.append(
                "tokens.secret is the shipped development secret \(exposure): anyone can sign access tokens with it; "
                    + "set GATEWAY_TOKEN_SECRET (for example to the output of `openssl rand -base64 48`) or "
                    + "tokens.secret")
        }
        for key in config.tokens.previousKeys where key.source == .secret(tokenSecret) {
            found.append(
                "\(key.path).secret is the shipped development secret \(exposure): anyone can sign access tokens "
                    + "that it verifies; remove that previous key")
        }
        for (index, app) in config.wechat.apps.enumerated() where app.secret == wechatAppSecret {
            found.append(
                "wechat.apps[\(index)].secret is the shipped development secret \"\(wechatAppSecret)\" \(exposure); "
                    + "set WECHAT_APP_SECRET (or the key) to the AppSecret of \(app.appid)")
        }
        return found
    }
}
