import XCTest

@testable import Engine

/// The engine's tunnel state machine without sockets (issue 23): opening, relay with back-pressure, half-close, idle.
final class EngineTunnelTests: XCTestCase {
    private let second: UInt64 = 1_000_000_000

    private func openTunnel(halfCloses: Bool = true, idle: UInt64 = 0) -> EngineTunnel {
        var tunnel = EngineTunnel(headLength: 100, idleTimeout: idle, upstreamHalfCloses: halfCloses, now: 0)
        tunnel.connected(now: 0)
        _ = tunnel.headSent(100)
        tunnel.switched(leftover: 0, now: 0)
        return tunnel
    }

    func testTheBudgetIsAskedOnlyOfAnOpenSideWithNothingWaiting() {
        var asked = 0
        func room() -> Bool {
            asked += 1
            return false
        }
        var tunnel = EngineTunnel(headLength: 10, idleTimeout: 0, upstreamHalfCloses: true, now: 0)
        tunnel.connected(now: 0)
        _ = tunnel.headSent(10)
        // The upgrade's answer is read whatever the tunnels hold.
        XCTAssertTrue(tunnel.mayRead(.upstream, budgetRoom: room()))
        XCTAssertEqual(asked, 0)
        tunnel.switched(leftover: 5, now: 0)
        // Bytes from the upstream wait for the client: that side is held by them, not by the budget.
        XCTAssertFalse(tunnel.mayRead(.upstream, budgetRoom: room()))
        XCTAssertEqual(asked, 0)
        XCTAssertFalse(tunnel.mayRead(.client, budgetRoom: room()))
        XCTAssertEqual(asked, 1)
    }

    func testTheUpgradeRequestIsWrittenInPiecesThenTheAnswerIsRead() {
        var tunnel = EngineTunnel(headLength: 100, idleTimeout: 0, upstreamHalfCloses: true, now: 0)
        XCTAssertFalse(tunnel.mayRead(.upstream))
        tunnel.connected(now: 1)
        XCTAssertTrue(tunnel.wantsWrite(.upstream))
        XCTAssertFalse(tunnel.headSent(60))
        XCTAssertEqual(tunnel.phase, .sendingHead(sent: 60))
        XCTAssertTrue(tunnel.headSent(40))
        XCTAssertEqual(tunnel.phase, .readingAnswer)
        XCTAssertTrue(tunnel.mayRead(.upstream))
        XCTAssertFalse(tunnel.mayRead(.client), "the client is not read before the switch")
    }

    func testBytesAfterThe101WaitForTheClientAndHoldTheUpstream() {
        var tunnel = EngineTunnel(headLength: 10, idleTimeout: 0, upstreamHalfCloses: true, now: 0)
        tunnel.connected(now: 0)
        _ = tunnel.headSent(10)
        tunnel.switched(leftover: 5, now: 0)
        XCTAssertTrue(tunnel.wantsWrite(.client))
        XCTAssertFalse(tunnel.mayRead(.upstream))
        XCTAssertTrue(tunnel.mayRead(.client))
    }

    func testASideWhosePeerTakesNothingIsNotReadUntilItsBytesAreTaken() {
        var tunnel = openTunnel()
        XCTAssertEqual(tunnel.read(4096, from: .upstream, now: 1), .none)
        XCTAssertEqual(tunnel.wrote(from: .upstream, remaining: 1000, now: 1), .none)
        XCTAssertFalse(tunnel.mayRead(.upstream))
        XCTAssertTrue(tunnel.wantsWrite(.client))
        XCTAssertTrue(tunnel.mayRead(.client), "the other way goes on")
        XCTAssertEqual(tunnel.pendingBytes, 1000)
        XCTAssertEqual(tunnel.wrote(from: .upstream, remaining: 0, now: 2), .none)
        XCTAssertTrue(tunnel.mayRead(.upstream))
        XCTAssertFalse(tunnel.wantsWrite(.client))
    }

    func testNothingIsReadWithoutRoomInTheBudget() {
        let tunnel = openTunnel()
        XCTAssertFalse(tunnel.mayRead(.client, budgetRoom: false))
        XCTAssertFalse(tunnel.mayRead(.upstream, budgetRoom: false))
    }

    func testTheClientsEndIsPassedOnOnceItsBytesAreOutAndTheOtherWayGoesOn() {
        var tunnel = openTunnel()
        _ = tunnel.read(10, from: .client, now: 1)
        XCTAssertEqual(tunnel.wrote(from: .client, remaining: 4, now: 1), .none)
        XCTAssertEqual(tunnel.read(0, from: .client, now: 2), .none, "bytes still wait for the upstream")
        XCTAssertEqual(tunnel.wrote(from: .client, remaining: 0, now: 3), .shutWrite(.upstream))
        XCTAssertTrue(tunnel.mayRead(.upstream))
        XCTAssertFalse(tunnel.mayRead(.client))
        XCTAssertEqual(tunnel.read(0, from: .upstream, now: 4), .close)
        XCTAssertEqual(tunnel.phase, .ended)
    }

    func testTheUpstreamsEndIsPassedToTheClient() {
        var tunnel = openTunnel()
        XCTAssertEqual(tunnel.read(0, from: .upstream, now: 1), .shutWrite(.client))
        XCTAssertEqual(tunnel.read(0, from: .client, now: 2), .close)
    }

    func testATLSUpstreamCannotBeHalfClosedSoTheClientsEndClosesTheTunnel() {
        var tunnel = openTunnel(halfCloses: false)
        XCTAssertEqual(tunnel.read(0, from: .client, now: 1), .close)
    }

    func testIdleIsMeasuredFromTheLastBytesMovedOrFromWhenADirectionWasHeld() {
        var tunnel = openTunnel(idle: 2 * second)
        XCTAssertFalse(tunnel.idleExpired(now: 1 * second))
        XCTAssertTrue(tunnel.idleExpired(now: 2 * second))
        _ = tunnel.read(100, from: .upstream, now: 3 * second)
        _ = tunnel.wrote(from: .upstream, remaining: 100, now: 3 * second)
        // The client keeps sending, but the upstream's bytes are held: the tunnel is idle since the hold.
        for time in 4...4 {
            _ = tunnel.read(10, from: .client, now: UInt64(time) * second)
            _ = tunnel.wrote(from: .client, remaining: 0, now: UInt64(time) * second)
        }
        XCTAssertFalse(tunnel.idleExpired(now: 4 * second))
        XCTAssertTrue(tunnel.idleExpired(now: 5 * second))
    }

    func testNoIdleTimeoutMeansNeverIdle() {
        let tunnel = openTunnel(idle: 0)
        XCTAssertFalse(tunnel.idleExpired(now: 1000 * second))
    }
}
