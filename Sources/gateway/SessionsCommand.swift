import ArgumentParser
import CurlHTTP
import Foundation
import GatewayCore
import NIOCore

/// `gateway sessions list|revoke`: an operator lists or ends a user's sessions through a running gateway's admin
/// listener (docs/deployment.md, "Ending a user's sessions").
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List or end a user's sessions on a running gateway.",
        subcommands: [List.self, Revoke.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The user's openid.")
        var openid: String?

        @Option(help: "Only the sessions of this mini-program (with --openid).")
        var appid: String?

        @Option(help: "The admin listener's base URL (default: http:// and server.admin_listen of --config).")
        var admin: String?

        @Option(
            name: .customLong("admin-token"),
            help: "The admin listener's [server] admin_token (default: the GATEWAY_ADMIN_TOKEN environment variable).")
        var adminToken: String?

        @OptionGroup var config: ConfigOption

        func baseURL() throws -> String {
            if let admin { return admin.hasSuffix("/") ? String(admin.dropLast()) : admin }
            switch ConfigLoader().load(file: config.config) {
            case .success(let loaded): return AdminSessionsCall.baseURL(of: loaded.server.adminListen)
            case .failure(let error):
                throw ValidationError("give --admin, or a --config that loads: \(error.description)")
            }
        }

        /// Prints the answer's body; a non-200 answer (or none) exits 1.
        func send(_ call: AdminSessionsCall) async throws {
            let curl = try CurlClient(configuration: CurlClientConfiguration())
            defer { curl.shutdown() }
            var headers: [(name: String, value: String)] = []
            let token = adminToken ?? ProcessInfo.processInfo.environment["GATEWAY_ADMIN_TOKEN"]
            if let token, !token.isEmpty { headers.append(("Authorization", "Bearer \(token)")) }
            var request = CurlRequest(
                method: call.method, url: try baseURL() + call.target, headers: headers, timeoutMilliseconds: 10_000)
            if let body = call.body {
                request.headers.append(("Content-Type", "application/json"))
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response: CurlResponse
            do {
                response = try await curl.execute(request, maxBodyBytes: 1 << 20)
            } catch {
                printError("gateway sessions: \(request.url): \(error)")
                throw ExitCode(1)
            }
            let text = String(buffer: response.body)
            guard response.head.status == 200 else {
                printError("gateway sessions: HTTP \(response.head.status): \(text)")
                throw ExitCode(1)
            }
            print(text)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's live sessions (never a token).")

        @OptionGroup var options: Options

        func run() async throws {
            guard let openid = options.openid else { throw ValidationError("--openid is required") }
            try await options.send(AdminSessionsCall.list(openid: openid, appid: options.appid))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a user's sessions (--openid, optionally --appid) or one session (--sid) on every instance.")

        @OptionGroup var options: Options

        @Option(help: "One session, by its id (the sid listed by `gateway sessions list`).")
        var sid: String?

        @Option(help: "Why, for the gateway's log.")
        var reason: String?

        func run() async throws {
            let selector: AdminSessionsRequest.Selector
            switch (options.openid, sid) {
            case (let openid?, nil): selector = .user(openid: openid, appid: options.appid)
            case (nil, let sid?) where options.appid == nil: selector = .session(sid: sid)
            default: throw ValidationError("give --openid [--appid] or --sid")
            }
            try await options.send(AdminSessionsCall.revoke(selector, reason: reason))
        }
    }
}
