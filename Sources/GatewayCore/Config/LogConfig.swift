import Logging

/// `[log]`: the log level (overridable with `--log-level`) and whether the access log is written.
public struct LogConfig: Sendable, Equatable {
    public var level: Logger.Level = .info
    public var accessLog = true

    public init() {}

    static func decode(_ reader: ConfigReader?) -> LogConfig {
        var config = LogConfig()
        guard let reader else { return config }
        if let text = reader.string("level") {
            if let level = Logger.Level(rawValue: text) {
                config.level = level
            } else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                reader.report("level", "\"\(text)\" is not a log level (\(names))")
            }
        }
        if let flag = reader.bool("access_log") { config.accessLog = flag }
        reader.rejectUnknownKeys()
        return config
    }
}
