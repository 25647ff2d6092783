#if canImport(Glibc)
/// Work another thread hands a worker through its `EngineMailbox` (issue 23): the worker owns its connections, so
/// whatever touches them runs on its thread.
enum EngineWorkerMail: Sendable {
    /// SIGTERM: stop accepting, close idle connections, `Connection: close` on answers in flight.
    case drain
    /// The drain deadline passed: close every connection.
    case closeAll
    /// Anything else to run on the worker's thread with the worker (closing the connections of a revoked session,
    /// delivering an answer computed elsewhere).
    case perform(@Sendable (EngineWorker) -> Void)
}
#endif
