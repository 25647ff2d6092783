import Foundation
import JSON

/// Random material the simulator hands out: session keys, access tokens, request ids.
enum SimulatorRandom {
    /// A session_key: 16 random bytes, base64 (jscode2session).
    static func sessionKey() -> String {
        Data(RandomBytes.make(16)).base64EncodedString()
    }

    /// An opaque access token of the length WeChat's have (about 136 characters).
    static func accessToken() -> String {
        "sim_" + RandomBytes.base64URL(byteCount: 99)
    }

    /// A request id like the `rid` WeChat appends to errmsg.
    static func rid() -> String {
        RandomBytes.hex(byteCount: 12)
    }
}
