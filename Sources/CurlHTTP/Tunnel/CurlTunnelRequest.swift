/// What opening a tunnel needs: where to connect (libcurl connect-only, so TLS and the CA settings are libcurl's) and
/// the exact upgrade request to write once connected.
public struct CurlTunnelRequest: Sendable {
    /// `http://host:port/...` or `https://...`: only scheme, host and port are used.
    public var url: String
    public var unixSocketPath: String?
    /// The whole request head to send, CRLFs and final blank line included.
    public var head: [UInt8]
    public var connectTimeoutMilliseconds: Int
    /// How long the upstream has to answer the upgrade once connected; 0 = the idle timeout's length.
    public var answerTimeoutMilliseconds: Int
    /// A tunnel with no byte either way for this long is closed (`.closedByGateway("idle_timeout")`); 0 = never.
    public var idleTimeoutMilliseconds: Int
    /// Per direction, the bytes held by the gateway: read from one side and not yet written to the other. At the
    /// limit, reading that side stops until the other has taken some.
    public var bufferLimit: Int
    /// The bytes held by every tunnel of the client together (both directions, this tunnel's limit of them): at it,
    /// this tunnel stops reading the side that would add more, until the others have passed some on.
    public var totalBufferLimit: Int
    /// What the upstream's 101 must say; nil takes any 101.
    public var expectedSwitch: CurlSwitchExpectation?
    public var caFile: String?
    public var insecureSkipVerify: Bool

    public init(
        url: String, unixSocketPath: String? = nil, head: [UInt8], connectTimeoutMilliseconds: Int,
        answerTimeoutMilliseconds: Int, idleTimeoutMilliseconds: Int, bufferLimit: Int, totalBufferLimit: Int = .max,
        expectedSwitch: CurlSwitchExpectation? = nil, caFile: String? = nil, insecureSkipVerify: Bool = false
    ) {
        self.url = url
        self.unixSocketPath = unixSocketPath
        self.head = head
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.answerTimeoutMilliseconds = answerTimeoutMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.bufferLimit = max(bufferLimit, 1)
        self.totalBufferLimit = max(totalBufferLimit, 1)
        self.expectedSwitch = expectedSwitch
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}
