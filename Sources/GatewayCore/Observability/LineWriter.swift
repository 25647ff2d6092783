import Foundation
import NIOConcurrencyHelpers

/// Collects log lines from every event loop and writes them to a file descriptor from its own thread,
/// so a request never waits on a `write(2)` to a slow terminal or pipe. Lines are written whole and in
/// the order they were appended; `flush()` waits until everything appended so far is out.
public final class LineWriter: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var stopped = false
    }

    private let fd: Int32
    private let state = NIOLockedValueBox(State())
    /// Bounded so a stuck stdout cannot eat memory: past it, lines are dropped and counted.
    private let maximumBufferedBytes: Int
    private let dropped = NIOLockedValueBox(0)
    /// Held while taking the buffer and writing it, so lines from two drains never interleave.
    private let writeLock = NIOLock()

    public init(fd: Int32 = 1, maximumBufferedBytes: Int = 8 << 20) {
        self.fd = fd
        self.maximumBufferedBytes = maximumBufferedBytes
        let thread = Thread { [self] in self.run() }
        thread.name = "gateway-log"
        thread.start()
    }

    public func append(_ line: String) {
        let accepted = state.withLockedValue { state -> Bool in
            guard state.buffer.count + line.utf8.count <= maximumBufferedBytes else { return false }
            state.buffer.append(contentsOf: line.utf8)
            return true
        }
        if !accepted {
            dropped.withLockedValue { $0 += 1 }
        }
    }

    /// Lines dropped because the output could not keep up.
    public var droppedLines: Int { dropped.withLockedValue { $0 } }

    /// Writes what is buffered now, from the caller's thread.
    public func flush() {
        _ = drain()
    }

    /// Takes what is buffered and writes it; returns how many bytes and whether the writer was stopped.
    private func drain() -> (bytes: Int, stopped: Bool) {
        writeLock.withLock {
            let (pending, stopped) = state.withLockedValue { state -> ([UInt8], Bool) in
                defer { state.buffer.removeAll(keepingCapacity: true) }
                return (state.buffer, state.stopped)
            }
            write(pending)
            return (pending.count, stopped)
        }
    }

    public func stop() {
        state.withLockedValue { $0.stopped = true }
        flush()
    }

    private func run() {
        while true {
            // Polling every 10 ms costs the request path nothing (no signal per line) and lets many
            // lines go out in one write.
            let (bytes, stopped) = drain()
            if stopped { return }
            if bytes < 65_536 { usleep(10_000) }
        }
    }

    private func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
