//! Group chats: create one, change who is in it, send to it (texts, replies, reactions,
//! edits, unsends, shared posts), read it.

use axum::{
    extract::{
        rejection::{PathRejection, QueryRejection},
        Path, Query, State,
    },
    http::StatusCode,
    Json,
};
use paperplane_protocol::{GroupId, MessageId};

use super::{not_blank, ApiResult, AppState};
use crate::{
    api::{
        body::StrictJson,
        chat_types::{MessageEdit, NewReaction, TypingSent, TypingState},
        error::ApiError,
        group_types::{
            check_group_ref, check_name, check_peer, check_peers, GroupAdmin, GroupChatQuery,
            GroupMemberPath, GroupMembers, GroupMessagePath, GroupRename, GroupShare, NewGroup,
            NewGroupMessage,
        },
        params::{self, GroupParam},
        types::{ChatQuery, ErrorBody, NewMessage},
    },
    chat::LIKE,
    groups::GroupView,
    messaging::Wait,
    node::Node,
    views::{MessageState, MessageView},
    PeerId,
};

/// Resolves the peer references of a body, in order.
fn resolve_peers(node: &Node, field: &str, refs: &[String]) -> Result<Vec<PeerId>, ApiError> {
    check_peers(field, refs)?;
    refs.iter()
        .map(|r| node.resolve(r).map_err(ApiError::from))
        .collect()
}

/// The group and message a `{group}/messages/{id}` path names.
fn group_message(
    node: &Node,
    path: Result<Path<GroupMessagePath>, PathRejection>,
) -> Result<(GroupId, MessageId), ApiError> {
    let Path(GroupMessagePath { group, id }) = path?;
    check_group_ref(&group)?;
    if !params::is_message_ref(&id) {
        return Err(ApiError::bad_request(format!(
            "{id:?} is not a message id: give 6 to 32 lowercase hex digits (a unique prefix \
             is enough)"
        )));
    }
    let group = node.resolve_group(&group)?;
    let id = node.resolve_group_message(&group, &id)?;
    Ok((group, id))
}

/// Waits, for at most `wait`, until a group message is no longer pending.
async fn settled(node: &Node, group: &GroupId, mut view: MessageView, wait: Wait) -> MessageView {
    let Wait::Up(d) = wait else {
        return view;
    };
    let deadline = tokio::time::Instant::now() + d;
    let mut events = node.events();
    loop {
        if let Ok(Some(v)) = node.group_message(group, &view.id) {
            view = v;
        }
        if view.state != MessageState::Pending
            || tokio::time::timeout_at(deadline, events.next())
                .await
                .is_err()
        {
            return view;
        }
    }
}

/// The user's groups (including those they left or were removed from), newest activity
/// first.
#[utoipa::path(get, path = "/v1/groups", tag = "groups", operation_id = "getGroups",
    responses((status = 200, description = "The groups.", body = Vec<GroupView>)))]
pub(crate) async fn groups(State(s): State<AppState>) -> ApiResult<Vec<GroupView>> {
    Ok(Json(s.node.groups()?))
}

/// Creates a group with the user as its admin. Each member gets it over their 1:1
/// session: in their inbox, or in their requests if they do not follow the user.
#[utoipa::path(post, path = "/v1/groups", tag = "groups", operation_id = "createGroup",
    request_body = NewGroup,
    responses(
        (status = 201, description = "The new group.", body = GroupView),
        (status = 400, description = "A blank name or one over 100 characters, no other \
            member, the user's own id only, an ambiguous handle, a blocked peer, or a peer \
            without messaging keys.", body = ErrorBody),
        (status = 404, description = "No known peer by one of the references.",
            body = ErrorBody),
    ))]
pub(crate) async fn create_group(
    State(s): State<AppState>,
    StrictJson(req): StrictJson<NewGroup>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    check_name("name", &req.name)?;
    let members = resolve_peers(&s.node, "members", &req.members)?;
    let view = s.node.create_group(&req.name, members).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One group: its name, members and admins, version and the user's status in it.
#[utoipa::path(get, path = "/v1/groups/{group}", tag = "groups", operation_id = "getGroup",
    params(GroupParam),
    responses(
        (status = 200, description = "The group.", body = GroupView),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
    ))]
pub(crate) async fn group(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
) -> ApiResult<GroupView> {
    let id = s.node.resolve_group(&group)?;
    Ok(Json(s.node.group(&id)?))
}

/// Renames a group (admins only).
#[utoipa::path(patch, path = "/v1/groups/{group}", tag = "groups", operation_id = "renameGroup",
    params(GroupParam), request_body = GroupRename,
    responses(
        (status = 200, description = "The group with its new name.", body = GroupView),
        (status = 400, description = "A blank name or one over 100 characters, or a name \
            that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
        (status = 409, description = "The user is not an admin or no longer a member, or \
            the group has that name already.", body = ErrorBody),
    ))]
pub(crate) async fn rename_group(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    StrictJson(req): StrictJson<GroupRename>,
) -> ApiResult<GroupView> {
    check_name("name", &req.name)?;
    let id = s.node.resolve_group(&group)?;
    Ok(Json(s.node.rename_group(&id, &req.name).await?))
}

/// Adds people to a group (admins only). They cannot read what was sent before.
#[utoipa::path(post, path = "/v1/groups/{group}/members", tag = "groups",
    operation_id = "addGroupMembers", params(GroupParam), request_body = GroupMembers,
    responses(
        (status = 200, description = "The group with its new members.", body = GroupView),
        (status = 400, description = "No peers, an ambiguous handle or group name, the \
            user's own id, a blocked peer, or a peer without messaging keys.",
            body = ErrorBody),
        (status = 404, description = "No such group, or no known peer by one of the \
            references.", body = ErrorBody),
        (status = 409, description = "The user is not an admin or no longer a member, they \
            are all members already, or the group would be too large.", body = ErrorBody),
    ))]
pub(crate) async fn add_members(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    StrictJson(req): StrictJson<GroupMembers>,
) -> ApiResult<GroupView> {
    let id = s.node.resolve_group(&group)?;
    let peers = resolve_peers(&s.node, "peers", &req.peers)?;
    Ok(Json(s.node.add_to_group(&id, peers).await?))
}

/// Removes a member (admins only). A new key epoch starts: they cannot read what is sent
/// after.
#[utoipa::path(delete, path = "/v1/groups/{group}/members/{peer}", tag = "groups",
    operation_id = "removeGroupMember", params(GroupMemberPath),
    responses(
        (status = 200, description = "The group without them.", body = GroupView),
        (status = 400, description = "The user's own id (leave instead), or an ambiguous \
            handle or group name.", body = ErrorBody),
        (status = 404, description = "No such group, or no known peer by that reference.",
            body = ErrorBody),
        (status = 409, description = "The user is not an admin or no longer a member, or \
            the peer is not a member.", body = ErrorBody),
    ))]
pub(crate) async fn remove_member(
    State(s): State<AppState>,
    path: Result<Path<GroupMemberPath>, PathRejection>,
) -> ApiResult<GroupView> {
    let Path(GroupMemberPath { group, peer }) = path?;
    check_group_ref(&group)?;
    check_peer("peer", &peer)?;
    let id = s.node.resolve_group(&group)?;
    let peer = s.node.resolve(&peer)?;
    if peer == s.node.peer_id() {
        return Err(ApiError::bad_request(
            "that is you: leave the group instead of removing yourself",
        ));
    }
    Ok(Json(s.node.remove_from_group(&id, peer).await?))
}

/// Makes a member an admin (admins only).
#[utoipa::path(post, path = "/v1/groups/{group}/admins", tag = "groups",
    operation_id = "makeGroupAdmin", params(GroupParam), request_body = GroupAdmin,
    responses(
        (status = 200, description = "The group.", body = GroupView),
        (status = 400, description = "An ambiguous handle or group name.", body = ErrorBody),
        (status = 404, description = "No such group, or no known peer by that reference.",
            body = ErrorBody),
        (status = 409, description = "The user is not an admin or no longer a member, or \
            the peer is not a member or an admin already.", body = ErrorBody),
    ))]
pub(crate) async fn make_admin(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    StrictJson(req): StrictJson<GroupAdmin>,
) -> ApiResult<GroupView> {
    check_peer("peer", &req.peer)?;
    let id = s.node.resolve_group(&group)?;
    let peer = s.node.resolve(&req.peer)?;
    Ok(Json(s.node.make_group_admin(&id, peer).await?))
}

/// Leaves a group. If the user was its only admin, the first remaining member becomes one.
#[utoipa::path(post, path = "/v1/groups/{group}/leave", tag = "groups",
    operation_id = "leaveGroup", params(GroupParam),
    responses(
        (status = 200, description = "The group, which the user has left.", body = GroupView),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
        (status = 409, description = "The user is no longer a member.", body = ErrorBody),
    ))]
pub(crate) async fn leave_group(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
) -> ApiResult<GroupView> {
    let id = s.node.resolve_group(&group)?;
    Ok(Json(s.node.leave_group(&id).await?))
}

/// Accepts a group the user was added to by someone they do not follow: it moves from
/// requests to the inbox, and read receipts go to its members.
#[utoipa::path(post, path = "/v1/groups/{group}/accept", tag = "groups",
    operation_id = "acceptGroup", params(GroupParam),
    responses(
        (status = 200, description = "The group, now in the inbox.", body = GroupView),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
    ))]
pub(crate) async fn accept_group(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
) -> ApiResult<GroupView> {
    let id = s.node.resolve_group(&group)?;
    s.node.accept_group(&id).await?;
    Ok(Json(s.node.group(&id)?))
}

/// The newest messages of a group (or, with `before`, those older than a message), oldest
/// first, without marking them read.
#[utoipa::path(get, path = "/v1/groups/{group}/messages", tag = "groups",
    operation_id = "getGroupMessages", params(GroupParam, ChatQuery),
    responses(
        (status = 200, description = "The messages (none if `before` is not in the group).",
            body = Vec<MessageView>),
        (status = 400, description = "A limit out of range, a `before` that is not a message \
            id, or a name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
    ))]
pub(crate) async fn group_messages(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    query: Result<Query<ChatQuery>, QueryRejection>,
) -> ApiResult<Vec<MessageView>> {
    let Query(query) = query?;
    let limit = GroupChatQuery { limit: query.limit }.limit()?;
    let before = query
        .before
        .as_deref()
        .map(params::message_id)
        .transpose()?;
    let id = s.node.resolve_group(&group)?;
    Ok(Json(s.node.group_chat_before(
        &id,
        before.as_ref(),
        limit,
    )?))
}

/// One message of a group by id (or a unique prefix), as shown now: its text, reactions,
/// edits, and for the user's own, delivery and who has seen it.
#[utoipa::path(get, path = "/v1/groups/{group}/messages/{id}", tag = "groups",
    operation_id = "getGroupMessage", params(GroupMessagePath),
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no such message in it.",
            body = ErrorBody),
    ))]
pub(crate) async fn group_message_view(
    State(s): State<AppState>,
    path: Result<Path<GroupMessagePath>, PathRejection>,
) -> ApiResult<MessageView> {
    let (group, id) = group_message(&s.node, path)?;
    Ok(Json(shown(&s.node, &group, &id)?))
}

/// Opens a group chat: its newest messages (as `GET …/messages`), unread back to 0, and a
/// read receipt to the members (unless receipts are off or the group is a request).
#[utoipa::path(post, path = "/v1/groups/{group}/read", tag = "groups",
    operation_id = "readGroup", params(GroupParam, GroupChatQuery),
    responses(
        (status = 200, description = "The messages.", body = Vec<MessageView>),
        (status = 400, description = "A limit out of range, or a name that more than one \
            group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
    ))]
pub(crate) async fn read_group(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    query: Result<Query<GroupChatQuery>, QueryRejection>,
) -> ApiResult<Vec<MessageView>> {
    let Query(query) = query?;
    let limit = query.limit()?;
    let id = s.node.resolve_group(&group)?;
    Ok(Json(s.node.open_group_chat(&id, limit).await?))
}

/// Tells the group's connected members that the user is typing, or stopped (not stored;
/// not sent while read receipts are off or the group is a request).
#[utoipa::path(post, path = "/v1/groups/{group}/typing", tag = "groups",
    operation_id = "groupTyping", params(GroupParam), request_body = TypingState,
    responses(
        (status = 200, description = "Whether it was sent.", body = TypingSent),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group.", body = ErrorBody),
    ))]
pub(crate) async fn group_typing(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    StrictJson(req): StrictJson<TypingState>,
) -> ApiResult<TypingSent> {
    let id = s.node.resolve_group(&group)?;
    Ok(Json(TypingSent {
        sent: s.node.typing_in_group(&id, req.active).await?,
    }))
}

/// Sends a text (or, with `reply_to`, a reply) to every member of a group, end-to-end
/// encrypted under the user's sender key.
#[utoipa::path(post, path = "/v1/groups/{group}/messages", tag = "groups",
    operation_id = "sendGroupMessage", params(GroupParam), request_body = NewGroupMessage,
    responses(
        (status = 201, description = "Durably queued for every member; `state` says whether \
            all of them acknowledged it within the wait.", body = MessageView),
        (status = 400, description = "A blank text or one over 4,096 bytes, a wait over \
            24 h, or a name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no message `reply_to` in it.",
            body = ErrorBody),
        (status = 409, description = "The user is no longer a member.", body = ErrorBody),
    ))]
pub(crate) async fn send_group_message(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    StrictJson(req): StrictJson<NewGroupMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    not_blank("text", &req.text)?;
    let wait = match req.wait_ms {
        None => Wait::Queued,
        ms => NewMessage::wait_of(ms).map_err(ApiError::bad_request)?,
    };
    let id = s.node.resolve_group(&group)?;
    let view = match req.reply_to.as_deref() {
        Some(r) => {
            let original = s.node.resolve_group_message(&id, r)?;
            s.node.reply_in_group(&id, &original, req.text).await?
        }
        None => s.node.send_group_text(&id, req.text).await?,
    };
    let view = settled(&s.node, &id, view, wait).await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Reacts to a group message with one emoji (❤️ unless given): one reaction per person per
/// message; the same one again takes it back.
#[utoipa::path(post, path = "/v1/groups/{group}/messages/{id}/reactions", tag = "groups",
    operation_id = "reactInGroup", params(GroupMessagePath), request_body = NewReaction,
    responses(
        (status = 200, description = "The message as sent; its reactions update once the \
            reaction is stored.", body = MessageView),
        (status = 400, description = "Not one emoji or shortcode, or a name that more than \
            one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no such message in it.",
            body = ErrorBody),
        (status = 409, description = "The user is no longer a member.", body = ErrorBody),
    ))]
pub(crate) async fn react(
    State(s): State<AppState>,
    path: Result<Path<GroupMessagePath>, PathRejection>,
    StrictJson(req): StrictJson<NewReaction>,
) -> ApiResult<MessageView> {
    let (group, id) = group_message(&s.node, path)?;
    let emoji = req.emoji.as_deref().unwrap_or(LIKE);
    s.node.react_in_group(&group, &id, Some(emoji)).await?;
    Ok(Json(shown(&s.node, &group, &id)?))
}

/// Takes back the user's reaction to a group message.
#[utoipa::path(delete, path = "/v1/groups/{group}/messages/{id}/reactions", tag = "groups",
    operation_id = "unreactInGroup", params(GroupMessagePath),
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no such message in it.",
            body = ErrorBody),
        (status = 409, description = "The user is no longer a member.", body = ErrorBody),
    ))]
pub(crate) async fn unreact(
    State(s): State<AppState>,
    path: Result<Path<GroupMessagePath>, PathRejection>,
) -> ApiResult<MessageView> {
    let (group, id) = group_message(&s.node, path)?;
    s.node.react_in_group(&group, &id, None).await?;
    Ok(Json(shown(&s.node, &group, &id)?))
}

/// Unsends one of the user's group messages, for every member.
#[utoipa::path(delete, path = "/v1/groups/{group}/messages/{id}", tag = "groups",
    operation_id = "unsendInGroup", params(GroupMessagePath),
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 400, description = "A name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no such message in it.",
            body = ErrorBody),
        (status = 409, description = "Not the user's message, or the user is no longer a \
            member.", body = ErrorBody),
    ))]
pub(crate) async fn unsend(
    State(s): State<AppState>,
    path: Result<Path<GroupMessagePath>, PathRejection>,
) -> ApiResult<MessageView> {
    let (group, id) = group_message(&s.node, path)?;
    own(&s.node, &group, &id)?;
    s.node.unsend_in_group(&group, &id).await?;
    Ok(Json(shown(&s.node, &group, &id)?))
}

/// Edits one of the user's group messages, within 15 minutes of sending it.
#[utoipa::path(patch, path = "/v1/groups/{group}/messages/{id}", tag = "groups",
    operation_id = "editInGroup", params(GroupMessagePath), request_body = MessageEdit,
    responses(
        (status = 200, description = "The message.", body = MessageView),
        (status = 400, description = "A blank text or one over 4,096 bytes, or a name that \
            more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no such message in it.",
            body = ErrorBody),
        (status = 409, description = "Not the user's message, not a text, unsent, more \
            than 15 minutes old, or the user is no longer a member.", body = ErrorBody),
    ))]
pub(crate) async fn edit(
    State(s): State<AppState>,
    path: Result<Path<GroupMessagePath>, PathRejection>,
    StrictJson(req): StrictJson<MessageEdit>,
) -> ApiResult<MessageView> {
    not_blank("text", &req.text)?;
    let (group, id) = group_message(&s.node, path)?;
    own(&s.node, &group, &id)?;
    s.node.edit_in_group(&group, &id, req.text).await?;
    Ok(Json(shown(&s.node, &group, &id)?))
}

/// Sends a post into a group with the paper plane: the message carries the post's signed
/// record.
#[utoipa::path(post, path = "/v1/groups/{group}/shares", tag = "groups",
    operation_id = "shareToGroup", params(GroupParam), request_body = GroupShare,
    responses(
        (status = 201, description = "Durably queued for every member.", body = MessageView),
        (status = 400, description = "A text over 4,096 bytes, an ambiguous post prefix, or \
            a name that more than one group has.", body = ErrorBody),
        (status = 404, description = "No such group, or no such post.", body = ErrorBody),
        (status = 409, description = "The user is no longer a member.", body = ErrorBody),
    ))]
pub(crate) async fn share(
    State(s): State<AppState>,
    GroupParam(group): GroupParam,
    StrictJson(req): StrictJson<GroupShare>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let id = s.node.resolve_group(&group)?;
    let post = s.node.resolve_post(&req.post)?;
    let view = s.node.share_to_group(&id, &post, req.text).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A group message as shown now.
fn shown(node: &Node, group: &GroupId, id: &MessageId) -> Result<MessageView, ApiError> {
    node.group_message(group, id)?
        .ok_or_else(|| ApiError::not_found(format!("no message {id} in this group (any longer)")))
}

/// A 409 unless message `id` is the user's.
fn own(node: &Node, group: &GroupId, id: &MessageId) -> Result<(), ApiError> {
    if shown(node, group, id)?.outgoing {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "only the author of a message can change it",
        ))
    }
}
