import NIOCore
import NIOEmbedded
import XCTest

@testable import GatewayCore

final class ReadAheadHandlerTests: XCTestCase {
    /// Sits between the channel and the handler under test and counts the reads that reach the channel.
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// Behind the handler under test: swallows reads, as NIO's pipelining handler does while a response is pending.
    private final class ReadHolder: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var holding = true
        func read(context: ChannelHandlerContext) {
            if !holding { context.read() }
        }
    }

    private func makeChannel(budget: Int) throws -> (EmbeddedChannel, ReadCounter, ReadHolder) {
        let counter = ReadCounter()
        let holder = ReadHolder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(ReadAheadHandler(budget: budget))
        try channel.pipeline.syncOperations.addHandler(holder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, counter, holder)
    }

    /// One read burst: EmbeddedChannel fires channelRead then channelReadComplete.
    private func deliver(_ count: Int, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: count))
    }

    func testAsksForTheNextReadWhileTheHandlersBehindHoldReadsAndTheBudgetLasts() throws {
        let (channel, counter, _) = try makeChannel(budget: 1000)
        defer { _ = try? channel.finish() }

        try deliver(400, to: channel)
        XCTAssertEqual(counter.reads, 1)
        try deliver(400, to: channel)
        XCTAssertEqual(counter.reads, 2)
    }

    func testStopsAskingOnceTheBudgetIsSpent() throws {
        let (channel, counter, _) = try makeChannel(budget: 1000)
        defer { _ = try? channel.finish() }

        try deliver(600, to: channel)
        try deliver(600, to: channel)

        XCTAssertEqual(counter.reads, 1, "1200 bytes read ahead of a budget of 1000: no further read")
    }

    func testAReadFromBehindRenewsTheBudget() throws {
        let (channel, counter, holder) = try makeChannel(budget: 1000)
        defer { _ = try? channel.finish() }
        try deliver(1200, to: channel)
        XCTAssertEqual(counter.reads, 0)

        holder.holding = false
        channel.read()
        XCTAssertEqual(counter.reads, 1)
        try deliver(400, to: channel)

        XCTAssertEqual(counter.reads, 2)
    }
}
