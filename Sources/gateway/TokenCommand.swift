import ArgumentParser
import Foundation
import GatewayCore

/// `gateway token`: work with access tokens from the command line.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Work with access tokens.",
        subcommands: [MintTokenCommand.self]
    )
}

/// `gateway token mint --openid X [--appid A] [--unionid U] [--ttl 1h]`: prints a signed access token.
struct MintTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint",
        abstract: "Print an access token signed with the configured key (for ops and benchmarks)."
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "The subject (the user's openid).")
    var openid: String

    @Option(help: "The appid claim; defaults to the first configured app.")
    var appid: String?

    @Option(help: "The unionid claim, when the user has one.")
    var unionid: String?

    @Option(help: "Lifetime, such as 15m, 1h or 30d; defaults to [tokens] access_ttl.")
    var ttl: String?

    func run() throws {
        let config = try loadOrExit(options.config)
        var lifetime = config.tokens.accessTTL
        if let ttl {
            guard let parsed = Duration(configText: ttl), parsed > .zero else {
                throw ValidationError("--ttl \"\(ttl)\" is not a duration such as 15m, 1h or 30d")
            }
            lifetime = parsed
        }
        let token: String
        do {
            token = try config.tokens.mintAccessToken(
                subject: openid, appid: appid ?? config.wechat.apps.first?.appid, unionid: unionid, ttl: lifetime)
        } catch let error as ConfigError {
            printError(error.description)
            throw ExitCode(1)
        }
        print(token)
    }
}
