import ArgumentParser
import Engine
import GatewayCore
import Logging
import ServiceLifecycle

/// `gateway serve`: runs the gateway until SIGTERM or SIGINT; SIGHUP reloads gateway.conf.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway (the default command).",
        discussion: """
            Refuses to start on a bad configuration, with the same messages as 'gateway check'.
            SIGTERM/SIGINT: stop accepting, finish in-flight requests (at most drain_timeout), exit 0.
            SIGHUP: reload the configuration; a bad one is logged and the running one kept (so is one with a
            development secret on an exposed listener, unless --allow-dev-secrets).
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(
        name: .long, help: "Log level (trace, debug, info, notice, warning, error, critical); overrides [log] level.")
    var logLevel: Logger.Level?

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Start (and reload) even though a shipped development secret is set and the listener is exposed.",
            discussion:
                "Exposed: server.listen is not loopback, trusted_proxies is set, or TLS is configured. Without the "
                + "flag such a gateway refuses to start or reload: anyone who read gateway.conf could sign tokens."))
    var allowDevSecrets = false

    /// Accepted for one release so scripts written while the engine was opt-in keep starting; it changes nothing.
    @Flag(
        name: .long,
        help: ArgumentHelp(
            "No effect (kept for one release): the engine's epoll workers always serve the public listener.",
            visibility: .hidden))
    var engine = false

    func run() async throws {
        let config = try loadOrExit(options.config)
        let exposed = DevelopmentSecrets.problems(in: config)
        if !exposed.isEmpty {
            if allowDevSecrets {
                for problem in exposed { printError("\(options.config): warning: \(problem) (--allow-dev-secrets)") }
            } else {
                for problem in exposed { printError("\(options.config): \(problem)") }
                printError(
                    "\(options.config): not starting with a development secret on a public listener "
                        + "(pass --allow-dev-secrets if you really mean it)")
                throw ExitCode(1)
            }
        }
        let logger = bootstrapLogging(level: logLevel ?? config.log.level)
        OpenFileLimit.raise(logger: logger)
        // `kill -USR1`: each engine worker writes its counters to standard error (benchmarks/cost.sh).
        EngineReportSignal.install()
        let service = GatewayService(
            config: config, configPath: options.config, logger: logger, allowsDevelopmentSecrets: allowDevSecrets,
            engine: EngineWorkerPool())
        let group = ServiceGroup(
            services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            printError("gateway: \(error)")
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Loads gateway.conf or prints every error and exits 1.
func loadOrExit(_ path: String) throws -> GatewayConfiguration {
    switch ConfigLoader().load(file: path) {
    case .success(let config):
        return config
    case .failure(let error):
        printError(error.description)
        printError(
            "\(path): not starting: \(error.issues.count) configuration error\(error.issues.count == 1 ? "" : "s")")
        throw ExitCode(1)
    }
}

/// Operational logs go to standard error; standard output carries the JSON access log.
func bootstrapLogging(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    var logger = Logger(label: "gateway")
    logger.logLevel = level
    return logger
}
