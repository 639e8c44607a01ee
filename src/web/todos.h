/* todos.h - the request handlers, one per route. Each reads its input from
 * c->req, calls the store once, and renders a template or redirects. */
#ifndef TODO_TODOS_H
#define TODO_TODOS_H

struct ctx;

void todos_list(struct ctx *c);          /* GET  /todos */
void todos_create(struct ctx *c);        /* POST /todos */
void todos_edit(struct ctx *c);          /* GET  /todos/{id}/edit */
void todos_update(struct ctx *c);        /* POST /todos/{id} */
void todos_toggle(struct ctx *c);        /* POST /todos/{id}/toggle */
void todos_delete(struct ctx *c);        /* POST /todos/{id}/delete */
void todos_toggle_all(struct ctx *c);    /* POST /todos/toggle-all */
void todos_clear_completed(struct ctx *c); /* POST /todos/clear-completed */
void todos_undo(struct ctx *c);          /* POST /todos/undo */
void todos_health(struct ctx *c);        /* GET  /healthz */

#endif
