#include "codec/codec.hpp"

namespace raft::codec {

std::string_view reason_name(ErrorReason reason) {
  switch (reason) {
    case ErrorReason::MessageTooLarge: return "message_too_large";
    case ErrorReason::Truncated: return "truncated";
    case ErrorReason::BadMagic: return "bad_magic";
    case ErrorReason::BadVersion: return "bad_version";
    case ErrorReason::BadMessageType: return "bad_message_type";
    case ErrorReason::TagMismatch: return "tag_mismatch";
    case ErrorReason::SenderMismatch: return "sender_mismatch";
    case ErrorReason::ReceiverMismatch: return "receiver_mismatch";
    case ErrorReason::BadVarint: return "bad_varint";
    case ErrorReason::BadNodeId: return "bad_node_id";
    case ErrorReason::BadBool: return "bad_bool";
    case ErrorReason::BadEntryType: return "bad_entry_type";
    case ErrorReason::CountTooLarge: return "count_too_large";
    case ErrorReason::LengthTooLarge: return "length_too_large";
    case ErrorReason::BadEntryIndex: return "bad_entry_index";
    case ErrorReason::OffsetOverflow: return "offset_overflow";
    case ErrorReason::TrailingBytes: return "trailing_bytes";
  }
  return "unknown";
}

}  // namespace raft::codec
