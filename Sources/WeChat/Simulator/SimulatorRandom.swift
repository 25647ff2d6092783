/// Random material the simulator hands out: session keys, access tokens, request ids.
enum SimulatorRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// A session_key: 16 random bytes, base64 (jscode2session).
    static func sessionKey() -> String {
        base64(bytes(16))
    }

    /// An opaque access token of the length WeChat's have (about 136 characters).
    static func accessToken() -> String {
        "sim_" + base64URL(bytes(99))
    }

    /// A request id like the `rid` WeChat appends to errmsg.
    static func rid() -> String {
        bytes(12).hexLowercase
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        base64(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

import Foundation
