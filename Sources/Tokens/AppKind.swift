/// What kind of WeChat front end a user logged in through (`[[wechat.apps]] kind`), carried in the access token's
/// `app_kind` claim and passed upstream as `X-App-Kind`. A token without the claim was issued before app kinds
/// existed, when every app was a mini-program.
public enum AppKind: String, Sendable, CaseIterable {
    /// A mini-program: `wx.login()` codes, exchanged with `jscode2session`.
    case miniprogram
    /// An official account's web page (H5 inside WeChat): `/connect/oauth2/authorize` codes.
    case officialaccount
    /// A website's QR code login: `/connect/qrconnect` codes.
    case website

    /// The JWT claim that carries it.
    public static let claim = "app_kind"

    /// The two kinds that log in with WeChat's web authorization (`/sns/oauth2/access_token`).
    public var isWeb: Bool { self != .miniprogram }
}
