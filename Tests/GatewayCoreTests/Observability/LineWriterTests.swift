import Foundation
import XCTest

@testable import GatewayCore

final class LineWriterTests: XCTestCase {
    /// A pipe whose read end never blocks, so a test reads exactly what the writer has written so far.
    private final class Pipe {
        let readEnd: Int32
        let writeEnd: Int32

        init() throws {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            readEnd = fds[0]
            writeEnd = fds[1]
            _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        }

        deinit {
            close(readEnd)
            close(writeEnd)
        }

        func readAvailable() -> String {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, $0.count) }
                guard count > 0 else { break }
                bytes += chunk[..<count]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Without its thread, so what is buffered between appends and `flush()` is known.
    private func writer(to pipe: Pipe, maximumBufferedBytes: Int) -> LineWriter {
        LineWriter(fd: pipe.writeEnd, maximumBufferedBytes: maximumBufferedBytes, drainsOnOwnThread: false)
    }

    func testWrittenInPlaceLinesGoOutWholeAndInOrder() throws {
        let pipe = try Pipe()
        let writer = writer(to: pipe, maximumBufferedBytes: 1024)

        writer.append { $0 += Array("first\n".utf8) }
        writer.append("second\n")
        writer.append { $0 += Array("third\n".utf8) }
        writer.flush()

        XCTAssertEqual(pipe.readAvailable(), "first\nsecond\nthird\n")
        XCTAssertEqual(writer.droppedLines, 0)
    }

    func testWrittenInPlaceLineThatFillsTheBoundExactlyIsKept() throws {
        let pipe = try Pipe()
        let writer = writer(to: pipe, maximumBufferedBytes: 10)

        writer.append { $0 += Array("1234\n".utf8) }
        writer.append { $0 += Array("abcd\n".utf8) }
        writer.flush()

        XCTAssertEqual(pipe.readAvailable(), "1234\nabcd\n")
        XCTAssertEqual(writer.droppedLines, 0)
    }

    func testWrittenInPlaceLinePastTheBoundIsTakenBackOutAndCounted() throws {
        let pipe = try Pipe()
        let writer = writer(to: pipe, maximumBufferedBytes: 10)

        writer.append { $0 += Array("1234\n".utf8) }
        writer.append { $0 += Array("too long\n".utf8) }
        writer.append { $0 += Array("abc\n".utf8) }
        writer.flush()

        XCTAssertEqual(pipe.readAvailable(), "1234\nabc\n", "no byte of the dropped line is written")
        XCTAssertEqual(writer.droppedLines, 1)
    }

    func testStringAndWrittenInPlaceLinesShareTheBoundAndTheDropCount() throws {
        let pipe = try Pipe()
        let writer = writer(to: pipe, maximumBufferedBytes: 8)

        writer.append("12345\n")
        writer.append { $0 += Array("abc\n".utf8) }
        writer.append("xyz\n")
        writer.append { $0 += Array("a\n".utf8) }
        writer.flush()

        XCTAssertEqual(pipe.readAvailable(), "12345\na\n")
        XCTAssertEqual(writer.droppedLines, 2)
    }

    func testBoundAppliesToWhatIsBufferedSinceTheLastDrain() throws {
        let pipe = try Pipe()
        let writer = writer(to: pipe, maximumBufferedBytes: 6)

        writer.append { $0 += Array("abcde\n".utf8) }
        writer.flush()
        writer.append { $0 += Array("fghij\n".utf8) }
        writer.flush()
        writer.append { $0 += Array("klmno\n".utf8) }
        writer.flush()

        XCTAssertEqual(pipe.readAvailable(), "abcde\nfghij\nklmno\n")
        XCTAssertEqual(writer.droppedLines, 0)
    }

    func testAccessLoggerWritesTheEntryLine() throws {
        let pipe = try Pipe()
        let writer = writer(to: pipe, maximumBufferedBytes: 4096)
        var entry = AccessLogEntry(
            time: Date(timeIntervalSince1970: 1_700_000_000.25), requestID: "r\"1", clientAddress: "203.0.113.9",
            method: "GET", path: "/api/me")
        entry.status = 200
        entry.durationSeconds = 0.054503

        AccessLogger(writer: writer, metrics: nil).record(entry)
        writer.flush()

        XCTAssertEqual(pipe.readAvailable(), entry.jsonLine())
    }

    func testOwnThreadWritesAppendedLinesWithoutAFlush() throws {
        let pipe = try Pipe()
        let writer = LineWriter(fd: pipe.writeEnd, maximumBufferedBytes: 4096)
        defer { writer.stop() }
        let expected = (0..<100).map { "line \($0)\n" }.joined()

        for number in 0..<100 {
            writer.append { $0 += Array("line \(number)\n".utf8) }
        }

        var received = ""
        let deadline = Date().addingTimeInterval(10)
        while received.utf8.count < expected.utf8.count, Date() < deadline {
            received += pipe.readAvailable()
            usleep(1_000)
        }
        XCTAssertEqual(received, expected)
    }
}
