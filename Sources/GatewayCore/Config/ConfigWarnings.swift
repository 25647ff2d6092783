/// Settings that are valid but dangerous where the gateway is exposed: `gateway check` prints them as warnings,
/// `serve` logs them at start and on every reload. Pure, like validation.
public enum ConfigWarnings {
    public static func of(_ config: GatewayConfiguration) -> [ConfigIssue] {
        var found: [ConfigIssue] = []
        if let reason = ListenerExposure(config.server).reason, config.wechat.apiBase.hasPrefix("http://") {
            // jscode2session carries the AppSecret in its query, and its answer becomes the user's identity
            // (docs/wechat.md): over plain HTTP anyone on the path reads the one and forges the other.
            found.append(
                ConfigIssue(
                    path: "wechat.api_base",
                    message: "\"\(RedactedURL.text(config.wechat.apiBase))\" is plain HTTP while \(reason): "
                        + "every login would send the AppSecret in clear text and take the answer as the user's "
                        + "identity; use \(WeChatConfig.officialAPIBase)"))
        }
        return found
    }
}
