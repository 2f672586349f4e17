/// The points of the SMTP dialogue where the policy is asked (DESIGN.md section 1).
public enum PolicyStage: String, Sendable, Hashable, CaseIterable {
    case connect
    case helo
    case mail
    case rcpt
    case dataEnd = "data-end"
}
