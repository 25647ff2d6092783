import Foundation
import NIOConcurrencyHelpers

/// Collects log lines from every event loop and writes them to a file descriptor from its own thread,
/// so a request never waits on a `write(2)` to a slow terminal or pipe. Lines are written whole and in
/// the order they were appended; `flush()` waits until everything appended so far is out.
public final class LineWriter: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
        var stopped = false
    }

    private let fd: Int32
    private let state = NIOLockedValueBox(State())
    /// Bounded so a stuck stdout cannot eat memory: past it, lines are dropped and counted.
    private let maximumBufferedBytes: Int
    /// The bytes being written out, swapped with `State.buffer` rather than copied out of it, so that in steady
    /// state the two buffers trade places and nothing is allocated. Its lock is held while taking the buffer and
    /// writing it, so lines from two drains never interleave.
    private let outgoing = NIOLockedValueBox<[UInt8]>([])

    public convenience init(fd: Int32 = 1, maximumBufferedBytes: Int = 8 << 20) {
        self.init(fd: fd, maximumBufferedBytes: maximumBufferedBytes, drainsOnOwnThread: true)
    }

    /// - Parameter drainsOnOwnThread: false only in tests, so that only `flush()` writes and what is buffered
    ///   between two calls is known.
    init(fd: Int32, maximumBufferedBytes: Int, drainsOnOwnThread: Bool) {
        self.fd = fd
        self.maximumBufferedBytes = maximumBufferedBytes
        guard drainsOnOwnThread else { return }
        let thread = Thread { [self] in self.run() }
        thread.name = "gateway-log"
        thread.start()
    }

    public func append(_ line: String) {
        state.withLockedValue { state in
            guard state.buffer.count + line.utf8.count <= maximumBufferedBytes else {
                state.dropped += 1
                return
            }
            state.buffer.append(contentsOf: line.utf8)
        }
    }

    /// Appends one line that `writeLine` writes straight into the buffer, under the lock: no String or array per
    /// line. `writeLine` must append the whole line, newline included, and nothing else; it must not call back
    /// into this writer. A line that would take the buffer past its bound is taken back out and counted as dropped.
    public func append(_ writeLine: (inout [UInt8]) -> Void) {
        state.withLockedValue { state in
            let start = state.buffer.count
            writeLine(&state.buffer)
            if state.buffer.count > maximumBufferedBytes {
                state.buffer.removeSubrange(start...)
                state.dropped += 1
            }
        }
    }

    /// Lines dropped because the output could not keep up.
    public var droppedLines: Int { state.withLockedValue { $0.dropped } }

    /// Writes what is buffered now, from the caller's thread.
    public func flush() {
        _ = drain()
    }

    /// Takes what is buffered and writes it; returns how many bytes and whether the writer was stopped.
    private func drain() -> (bytes: Int, stopped: Bool) {
        outgoing.withLockedValue { outgoing in
            // `outgoing` is empty here; after the swap the appenders fill the buffer the last drain emptied.
            let stopped = state.withLockedValue { state in
                swap(&outgoing, &state.buffer)
                return state.stopped
            }
            let bytes = outgoing.count
            write(outgoing)
            outgoing.removeAll(keepingCapacity: true)
            return (bytes, stopped)
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
