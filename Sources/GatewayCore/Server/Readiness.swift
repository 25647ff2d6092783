/// The `/readyz` answer: load balancers and orchestrators stop sending traffic on `.notReady`.
public enum Readiness: Sendable, Equatable {
    case ready
    case notReady(reason: String)
}
