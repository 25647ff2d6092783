import ArgumentParser
import Engine

/// `gateway engine-probe`: the measuring slice of issue 23, hidden from help. Not for production.
struct EngineProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-probe",
        abstract: "Issue 23's measuring slice of the engine; not for production.",
        discussion: """
            Loads the configuration like 'serve' and runs one engine worker on [server] listen: one epoll set for
            client and libcurl sockets, llhttp, the routes, the cached token check, the header rewrite, the access
            log. No admin listener, TLS, /auth/* endpoints, request bodies, reload or drain: it exists to be measured
            against floor.c with bench.sh and cost.sh, and will go when the engine serves.
            """,
        shouldDisplay: false
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let config = try loadOrExit(options.config)
        do {
            try EngineProbe.run(config: config)
        } catch {
            printError("gateway engine-probe: \(error)")
            throw ExitCode(1)
        }
    }
}
