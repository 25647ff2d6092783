import XCTest

@testable import GatewayCore

final class ClientAddressTests: XCTestCase {
    private let balancers = [IPAddressRange(configText: "10.0.0.0/8")!, IPAddressRange(configText: "::1/128")!]

    func testUntrustedPeerIsTheClientWhateverItForwards() {
        XCTAssertEqual(
            ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"], trustedProxies: balancers),
            "203.0.113.9")
        XCTAssertEqual(
            ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: ["198.51.100.1"], trustedProxies: []),
            "10.0.0.5")
    }

    func testTrustedPeerNamesTheNearestUntrustedHop() {
        // The client wrote 192.0.2.66 itself; the balancer appended the address it saw, 203.0.113.9.
        XCTAssertEqual(
            ClientAddress.resolve(
                peer: "10.0.0.5", forwardedFor: ["192.0.2.66, 203.0.113.9"], trustedProxies: balancers),
            "203.0.113.9")
    }

    func testChainsOfTrustedProxiesAreWalkedFromTheRight() {
        XCTAssertEqual(
            ClientAddress.resolve(
                peer: "10.0.0.5", forwardedFor: ["192.0.2.66", "203.0.113.9, 10.1.1.1"], trustedProxies: balancers),
            "203.0.113.9")
    }

    func testAllTrustedHopsGiveTheLeftmost() {
        XCTAssertEqual(
            ClientAddress.resolve(peer: "::1", forwardedFor: ["10.2.2.2, 10.1.1.1"], trustedProxies: balancers),
            "10.2.2.2")
    }

    func testGarbageStopsTheWalkAtTheLastRealAddress() {
        XCTAssertEqual(
            ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: ["unknown, 10.1.1.1"], trustedProxies: balancers),
            "10.1.1.1")
        XCTAssertEqual(ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: [], trustedProxies: balancers), "10.0.0.5")
    }

    func testUnixSocketPeersShareOneKey() {
        XCTAssertEqual(
            ClientAddress.resolve(peer: nil, forwardedFor: ["203.0.113.9"], trustedProxies: balancers), "unix")
    }
}
