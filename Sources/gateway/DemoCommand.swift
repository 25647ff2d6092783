import ArgumentParser
import CurlHTTP
import Engine
import Foundation
import GatewayCore
import Logging
import NIOCore
import ServiceLifecycle
import WeChatSimulator

/// `gateway demo`: starts the WeChat simulator, an echo upstream and the gateway with ./gateway.conf,
/// walks once through login → API call → refresh → logout, prints the curl commands to do it by hand,
/// and keeps everything running until Ctrl-C.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the simulator, an echo upstream and the gateway together, for a first look."
    )

    @OptionGroup var options: ConfigOption

    @Flag(help: "Run the walk-through, then stop instead of serving until Ctrl-C.")
    var once = false

    func run() async throws {
        var config = try loadOrExit(options.config)
        // The web login is part of the tour: without a web app in the config, the demo brings its own.
        if !config.wechat.apps.contains(where: { $0.kind.isWeb }) {
            config.wechat.apps.append(DemoWalkthrough.demoOfficialAccount(besides: config.wechat.apps))
        }
        let logger = bootstrapLogging(level: .warning)
        guard let api = UpstreamURL(configText: config.wechat.apiBase), api.unixSocketPath == nil,
            let apiAddress = ListenAddress(configText: api.authority)
        else {
            printError(
                "demo: [wechat] api_base must be http://host:port of the simulator (it is \(config.wechat.apiBase))")
            throw ExitCode(1)
        }
        var apps: [String: String] = [:]
        for app in config.wechat.apps { apps[app.appid] = app.secret }
        let simulator = WeChatSimulator(
            configuration: WeChatSimulatorConfiguration(apps: apps, host: apiAddress.host, port: apiAddress.port))
        // An echo upstream on every loopback upstream of the config, so the routes have something to reach.
        var echoAddresses: [ListenAddress] = []
        for route in config.routes {
            for upstream in route.upstreams where upstream.scheme == .http && upstream.unixSocketPath == nil {
                if let address = ListenAddress(configText: upstream.authority), address.host == "127.0.0.1",
                    !echoAddresses.contains(address)
                {
                    echoAddresses.append(address)
                }
            }
        }
        let peers = DemoPeers(simulator: simulator, echoAddresses: echoAddresses)
        let once = self.once
        let walkthrough = DemoWalkthrough(config: config, keepsRunning: !once)
        let group = ServiceGroupBox()
        OpenFileLimit.raise(logger: logger)
        let gateway = GatewayService(
            config: config, configPath: options.config, logger: logger, engine: EngineWorkerPool()
        ) { _ in
            Task {
                await walkthrough.run()
                if once { await group.shutdown() }
            }
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: peers),
                    .init(service: gateway),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        await group.set(serviceGroup)
        do {
            try await serviceGroup.run()
        } catch {
            printError("demo: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Lets the walk-through stop the service group it runs in (`--once`).
actor ServiceGroupBox {
    private var group: ServiceGroup?

    func set(_ group: ServiceGroup) { self.group = group }

    func shutdown() async { await group?.triggerGracefulShutdown() }
}

/// The simulator and the echo upstreams, as one service.
struct DemoPeers: Service {
    let simulator: WeChatSimulator
    let echoAddresses: [ListenAddress]

    func run() async throws {
        _ = try await simulator.start()
        var channels: [any Channel] = []
        for address in echoAddresses {
            do {
                channels.append(try await EchoUpstream().bind(host: address.host, port: address.port))
            } catch {
                printError("demo: port \(address) is taken; using whatever listens there as the upstream")
            }
        }
        try? await gracefulShutdown()
        for channel in channels { try? await channel.close() }
        await simulator.stop()
    }
}

/// Calls the running gateway like a mini-program would, printing each step and the command behind it; then logs in
/// like an official account's H5 page (`DemoWalkthrough+Web`).
struct DemoWalkthrough: Sendable {
    let config: GatewayConfiguration
    let keepsRunning: Bool

    func run() async {
        let base = "http://\(config.server.listen.host):\(config.server.listen.port)"
        let apiPath =
            (config.routes.first?.prefix ?? "/api/")
            + (config.routes.first?.prefix.hasSuffix("/") == true ? "hello" : "/hello")
        guard let curl = try? CurlClient() else { return }
        defer { curl.shutdown() }
        let code = "demo-\(UInt32.random(in: 0...UInt32.max))"
        // Several apps are configured (the demo's web app at least): a login names its app.
        let appid = config.wechat.apps.first { $0.kind == .miniprogram }?.appid ?? config.wechat.apps[0].appid
        let loginBody = "{\"code\":\"\(code)\",\"appid\":\"\(appid)\"}"
        show(
            """

            WeChat gateway demo: simulator on \(config.wechat.apiBase), gateway on \(base), \
            echo upstream behind \(apiPath).
            Walking through login → API call → refresh → logout, then the web login of an H5 page
            (run the same commands yourself):

            """)
        show("1. Log in with a wx.login() code (the simulator takes any code, once):")
        show("   curl -s -X POST \(base)/auth/login -H 'Content-Type: application/json' -d '\(loginBody)'")
        let login = await call(curl, "POST", base + "/auth/login", body: loginBody)
        show(indent(login.body))
        guard let access = field("access_token", in: login.body), let refresh = field("refresh_token", in: login.body)
        else {
            show("   login failed (status \(login.status)); is something else listening on the simulator's port?")
            return
        }
        show("\n2. Call the legacy API with the access token; the upstream sees X-OpenId:")
        show("   curl -s \(base)\(apiPath) -H 'Authorization: Bearer \(access)'")
        let api = await call(curl, "GET", base + apiPath, bearer: access)
        show(indent(api.body))
        show("\n3. Refresh: the refresh token is spent and replaced:")
        show("   curl -s -X POST \(base)/auth/token -d 'grant_type=refresh_token&refresh_token=\(refresh)'")
        let refreshed = await call(
            curl, "POST", base + "/auth/token", body: "grant_type=refresh_token&refresh_token=\(refresh)",
            contentType: "application/x-www-form-urlencoded")
        show(indent(refreshed.body))
        let newAccess = field("access_token", in: refreshed.body) ?? access
        show("\n4. Log out: the session ends and the access token stops working at once:")
        show("   curl -s -X POST \(base)/auth/logout -H 'Authorization: Bearer \(newAccess)'")
        let logout = await call(curl, "POST", base + "/auth/logout", bearer: newAccess)
        show("   → \(logout.status)")
        let after = await call(curl, "GET", base + apiPath, bearer: newAccess)
        show(
            "   the same API call now → \(after.status) \(after.body.trimmingCharacters(in: .whitespacesAndNewlines))")
        await runWebLogin(curl, base: base, apiPath: apiPath)
        show(keepsRunning ? "\nThe demo keeps running; press Ctrl-C to stop it.\n" : "\nDone; stopping the demo.\n")
    }

    func call(
        _ curl: CurlClient, _ method: String, _ url: String, body: String? = nil, bearer: String? = nil,
        contentType: String = "application/json"
    ) async -> (status: Int, body: String) {
        var headers: [(name: String, value: String)] = []
        if let bearer { headers.append(("Authorization", "Bearer \(bearer)")) }
        var request = CurlRequest(method: method, url: url, headers: headers, timeoutMilliseconds: 10_000)
        if let body {
            request.headers.append(("Content-Type", contentType))
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let response = try await curl.execute(request, maxBodyBytes: 1 << 20)
            return (response.head.status, String(buffer: response.body))
        } catch {
            return (0, "\(error)")
        }
    }

    /// Prints `text` and flushes it at once. Piped into `tee` or a CI log, stdout is block-buffered: without the
    /// flush the whole walk-through would appear only when the demo exits.
    func show(_ text: String) {
        print(text)
        // nil: every output stream, which is stdout here (the global `stdout` is not concurrency-safe to name).
        fflush(nil)
    }

    func field(_ name: String, in json: String) -> String? {
        guard let data = json.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object[name] as? String
    }

    func indent(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").map { "   " + $0 }.joined(
            separator: "\n")
    }
}
