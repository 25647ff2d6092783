import JSON
import WeChat

/// The simulator's answer to one request: a status, a JSON body and an optional hold time.
struct SimulatorResponse: Sendable, Equatable {
    var status: Int
    var body: JSONValue
    /// Held this long before it is sent, to let clients exercise their timeouts.
    var delay: Duration?

    init(status: Int = 200, body: JSONValue, delay: Duration? = nil) {
        self.status = status
        self.body = body
        self.delay = delay
    }

    /// WeChat's error shape: HTTP 200 with errcode and errmsg ("全局返回码" / global return codes).
    static func error(_ errcode: Int, _ errmsg: String, status: Int = 200) -> SimulatorResponse {
        SimulatorResponse(
            status: status,
            body: .object(["errcode": .int(errcode), "errmsg": .string(errmsg + ", rid: " + SimulatorRandom.rid())])
        )
    }
}
