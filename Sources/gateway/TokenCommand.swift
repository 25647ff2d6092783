import ArgumentParser
import Foundation
import GatewayCore
import Tokens

/// `gateway token`: work with access tokens from the command line.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Work with access tokens.",
        subcommands: [MintTokenCommand.self]
    )
}

/// `gateway token mint --openid X [--appid A] [--unionid U] [--app-kind K] [--ttl 1h]`: prints a signed access token.
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

    @Option(help: "The app_kind claim (miniprogram, officialaccount, website); defaults to the app's configured kind.")
    var appKind: String?

    @Option(help: "Lifetime, such as 15m, 1h or 30d; defaults to [tokens] access_ttl.")
    var ttl: String?

    func run() throws {
        // Checked before the config is read, and named by option: the same values would be refused by every
        // gateway that verifies the token, so a token with them is of no use to anyone.
        let identities: [(option: String, header: String, value: String?)] = [
            ("--openid", "X-OpenId", openid), ("--appid", "X-AppId", appid), ("--unionid", "X-UnionId", unionid),
        ]
        for (option, header, value) in identities {
            if let value, let problem = TokensConfig.identityClaimProblem(value) {
                printError(
                    "gateway token mint: \(option) \(problem); it becomes the \(header) header upstream, "
                        + "so it must have no CR, LF or other control character and no leading or trailing space")
                throw ExitCode(1)
            }
        }
        let config = try loadOrExit(options.config)
        var lifetime = config.tokens.accessTTL
        if let ttl {
            guard let parsed = Duration(configText: ttl), parsed > .zero else {
                throw ValidationError("--ttl \"\(ttl)\" is not a duration such as 15m, 1h or 30d")
            }
            lifetime = parsed
        }
        let app = appid ?? config.wechat.apps.first?.appid
        var kind = config.wechat.kind(ofApp: app)
        if let appKind {
            guard let named = AppKind(rawValue: appKind) else {
                throw ValidationError("--app-kind \"\(appKind)\" is not miniprogram, officialaccount or website")
            }
            kind = named
        }
        let token: String
        do {
            token = try config.tokens.mintAccessToken(
                subject: openid, appid: app, unionid: unionid, appKind: kind, ttl: lifetime)
        } catch let error as ConfigError {
            printError(error.description)
            throw ExitCode(1)
        } catch {
            // The issuer's refusal (an empty openid, a lifetime it cannot sign), named, never a stack of internals.
            printError("gateway token mint: \(error)")
            throw ExitCode(1)
        }
        print(token)
    }
}
