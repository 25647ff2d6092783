#if canImport(Glibc)
import GatewayCore
import Synchronization

/// The engine listener's TLS context, shared by the workers and read once per accepted connection, as the NIO
/// listener's `TLSContextBox`: after a reload (SIGHUP) the first new connection makes a context from the reloaded
/// configuration's certificate files (renewed in place, as certbot does), and connections already open keep theirs.
/// The service rejects a reload whose files swift-nio-ssl cannot load; should OpenSSL still refuse them, the old
/// context stays and the reason is reported, so a bad file never takes the listener down.
final class EngineTLSContextBox: Sendable {
    private struct State {
        var generation: Int
        var context: EngineTLSContext
    }

    private let state: Mutex<State>
    private let holder: RuntimeHolder?
    private let report: @Sendable (String) -> Void

    /// `holder`: the snapshot to follow (the service's); nil: the files never change (unit tests).
    init(
        _ files: ServerConfig.TLSFiles, holder: RuntimeHolder?, report: @escaping @Sendable (String) -> Void
    ) throws(EngineError) {
        let context = try EngineTLSContext(files)
        state = Mutex(State(generation: holder?.generation ?? 0, context: context))
        self.holder = holder
        self.report = report
    }

    /// The context a new connection starts with.
    func current() -> EngineTLSContext {
        let generation = holder?.generation ?? 0
        return state.withLock { state in
            if state.generation != generation, let holder {
                state.generation = generation
                renew(&state, with: holder.current.config.server.tls)
            }
            return state.context
        }
    }

    private func renew(_ state: inout State, with files: ServerConfig.TLSFiles?) {
        // Switching TLS off needs a restart (a new listener): until then the listener keeps serving TLS.
        guard let files else { return }
        do {
            state.context = try EngineTLSContext(files)
        } catch {
            report("reload: server.tls_certificate: keeping the previous certificate: \(error)")
        }
    }
}
#endif
