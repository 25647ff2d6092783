/// `[store]`: where sessions and revocations live. `sqlite://FILE` (embedded, one instance) or
/// `postgres://user:pass@host:5432/db` (state shared by several instances).
public struct StoreConfig: Sendable, Equatable, CustomStringConvertible {
    public var url = "sqlite://gateway.db"

    public init() {}

    /// The URL with any password replaced, for logs.
    public var description: String { RedactedURL.text(url) }

    static func decode(_ reader: ConfigReader?) -> StoreConfig {
        var config = StoreConfig()
        guard let reader else { return config }
        if let url = reader.string("url") {
            if url.hasPrefix("sqlite://"), url.count > "sqlite://".count {
                config.url = url
            } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
                config.url = url
            } else {
                reader.report("url", "\"\(RedactedURL.text(url))\" is not a store URL (sqlite://FILE or postgres://user:pass@host:5432/db)")
            }
        }
        reader.rejectUnknownKeys()
        return config
    }
}
