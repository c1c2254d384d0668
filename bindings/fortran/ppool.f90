! ppool.f90: module ppool, the Fortran binding: iso_c_binding wrappers over ppool.h.
!
! A task is a bind(C) function registered by name in every process before
! ppool_open; a pool maps it over arrays (one element an item), over byte
! buffers (type(ppool_buf)) or applies it once. Calls return the C codes:
! 0 (or a count) on success, a negative PPOOL_E* on failure, and PPOOL_WORKER
! from ppool_open on a process that served as a worker (an MPI rank > 0, a
! spawned worker), which must skip the master's work. Item positions (task
! index, failed items) count from 1, like the arrays; ppool_errmsg's text is
! the C library's and counts items from 0.
module ppool
  use, intrinsic :: iso_c_binding
  implicit none
  private

  include 'ppool_constants.inc'

  !> A pool (the C handle). Default-initialised to no pool; ppool_free(NULL) is fine.
  type, public :: ppool_pool
    private
    type(c_ptr) :: p = c_null_ptr
  end type

  !> A byte buffer: an item of ppool_map_bufs, or a result of any length.
  type, public :: ppool_buf
    character(kind=c_char, len=:), allocatable :: data
  end type

  !> The task function's C signature: int fn(ppool_task *task, const void *arg, size_t len).
  !> A task may also take its argument by reference (integer(c_int), intent(in) :: x) and be
  !> registered with c_funloc.
  abstract interface
    integer(c_int) function ppool_fn(task, arg, len) bind(C)
      import :: c_int, c_ptr, c_size_t
      type(c_ptr), value :: task, arg
      integer(c_size_t), value :: len
    end function
  end interface

  ! ppool_buf of the C API.
  type, bind(C) :: cbuf
    type(c_ptr) :: data = c_null_ptr
    integer(c_size_t) :: len = 0
  end type

  public :: ppool_fn, ppool_register, ppool_open, ppool_size, ppool_transport
  public :: ppool_map, ppool_map_bufs, ppool_map_failed, ppool_apply
  public :: ppool_close, ppool_join, ppool_terminate, ppool_free
  public :: ppool_task_return, ppool_task_fail, ppool_task_index, ppool_string
  public :: ppool_strerror, ppool_errname, ppool_errmsg, ppool_cpu_count, ppool_version

  !> rc = ppool_register(name, fn): fn a procedure(ppool_fn), or c_funloc of any bind(C) task.
  interface ppool_register
    module procedure register_fn, register_funptr
  end interface
  !> rc = ppool_map(pool, fn, in, out): in(i) -> out(i) for 1-D arrays of numbers, or
  !> rc = ppool_map(pool, fn, in_ptr, n, in_size, out_ptr, out_size) over any memory.
  interface ppool_map
    module procedure map_arrays, map_raw
  end interface
  !> rc = ppool_apply(pool, fn, arg [, result]): arg a scalar or a 1-D array.
  interface ppool_apply
    module procedure apply_scalar, apply_array
  end interface
  !> rc = ppool_task_return(task, x): x a scalar, a string or a 1-D array.
  interface ppool_task_return
    module procedure return_scalar, return_array
  end interface

  interface
    integer(c_int) function c_register(name, fn) bind(C, name="ppool_register")
      import :: c_int, c_char, c_funptr
      character(kind=c_char), intent(in) :: name(*)
      type(c_funptr), value :: fn
    end function
    integer(c_int) function c_open(pool, workers, transport, bind, chunksize, initializer, &
                                   initarg, initarg_len, maxtasksperchild, retries, &
                                   task_timeout, flags, start) bind(C, name="ppool_f_open")
      import :: c_int, c_ptr, c_long_long, c_size_t, c_double
      type(c_ptr), intent(inout) :: pool
      integer(c_int), value :: workers, maxtasksperchild, retries, flags
      type(c_ptr), value :: transport, bind, initializer, initarg, start
      integer(c_long_long), value :: chunksize
      integer(c_size_t), value :: initarg_len
      real(c_double), value :: task_timeout
    end function
    integer(c_int) function c_size(p) bind(C, name="ppool_size")
      import :: c_int, c_ptr
      type(c_ptr), value :: p
    end function
    type(c_ptr) function c_transport(p) bind(C, name="ppool_transport")
      import :: c_ptr
      type(c_ptr), value :: p
    end function
    integer(c_int) function c_map(p, fn, in, n, in_size, out, out_size) bind(C, name="ppool_map")
      import :: c_int, c_ptr, c_char, c_size_t
      type(c_ptr), value :: p, in, out
      character(kind=c_char), intent(in) :: fn(*)
      integer(c_size_t), value :: n, in_size, out_size
    end function
    integer(c_int) function c_map_bufs(p, fn, in, n, out) bind(C, name="ppool_map_bufs")
      import :: c_int, c_ptr, c_char, c_size_t
      type(c_ptr), value :: p, in, out
      character(kind=c_char), intent(in) :: fn(*)
      integer(c_size_t), value :: n
    end function
    integer(c_size_t) function c_map_failed(p, index, status, cap) bind(C, name="ppool_map_failed")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: p, index, status
      integer(c_size_t), value :: cap
    end function
    integer(c_int) function c_apply(p, fn, arg, len, out) bind(C, name="ppool_apply")
      import :: c_int, c_ptr, c_char, c_size_t
      type(c_ptr), value :: p, arg, out
      character(kind=c_char), intent(in) :: fn(*)
      integer(c_size_t), value :: len
    end function
    integer(c_int) function c_close(p) bind(C, name="ppool_close")
      import :: c_int, c_ptr
      type(c_ptr), value :: p
    end function
    integer(c_int) function c_join(p) bind(C, name="ppool_join")
      import :: c_int, c_ptr
      type(c_ptr), value :: p
    end function
    integer(c_int) function c_terminate(p) bind(C, name="ppool_terminate")
      import :: c_int, c_ptr
      type(c_ptr), value :: p
    end function
    subroutine c_free(p) bind(C, name="ppool_free")
      import :: c_ptr
      type(c_ptr), value :: p
    end subroutine
    subroutine c_buf_free(b) bind(C, name="ppool_buf_free")
      import :: cbuf
      type(cbuf), intent(inout) :: b
    end subroutine
    integer(c_int) function c_task_return(task, data, len) bind(C, name="ppool_task_return")
      import :: c_int, c_ptr, c_size_t
      type(c_ptr), value :: task, data
      integer(c_size_t), value :: len
    end function
    integer(c_int) function c_task_fail(task, msg, len) bind(C, name="ppool_f_task_fail")
      import :: c_int, c_ptr, c_char, c_size_t
      type(c_ptr), value :: task
      character(kind=c_char), intent(in) :: msg(*)
      integer(c_size_t), value :: len
    end function
    integer(c_size_t) function c_task_index(task) bind(C, name="ppool_task_index")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: task
    end function
    type(c_ptr) function c_strerror(err) bind(C, name="ppool_strerror")
      import :: c_ptr, c_int
      integer(c_int), value :: err
    end function
    type(c_ptr) function c_errname(err) bind(C, name="ppool_errname")
      import :: c_ptr, c_int
      integer(c_int), value :: err
    end function
    type(c_ptr) function c_errmsg(p) bind(C, name="ppool_f_errmsg")
      import :: c_ptr
      type(c_ptr), value :: p
    end function
    integer(c_int) function c_note(p, err, msg, len) bind(C, name="ppool_f_note")
      import :: c_int, c_ptr, c_char, c_size_t
      type(c_ptr), value :: p
      integer(c_int), value :: err
      character(kind=c_char), intent(in) :: msg(*)
      integer(c_size_t), value :: len
    end function
    subroutine c_forget() bind(C, name="ppool_f_forget")
    end subroutine
    integer(c_int) function c_cpu_count() bind(C, name="ppool_cpu_count")
      import :: c_int
    end function
    type(c_ptr) function c_version() bind(C, name="ppool_version")
      import :: c_ptr
    end function
    integer(c_size_t) function c_strlen(s) bind(C, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
    end function
  end interface

contains

  ! ---- helpers: strings, addresses, the binding's own failures ----

  ! trim(s) NUL-terminated, for a C string argument.
  pure function cchars(s) result(c)
    character(*), intent(in) :: s
    character(kind=c_char) :: c(len_trim(s) + 1)
    integer :: i
    do i = 1, len_trim(s)
      c(i) = s(i:i)
    end do
    c(size(c)) = c_null_char
  end function

  ! The address of a NUL-terminated copy of trim(s) kept in buf; NULL where s is absent.
  type(c_ptr) function cstr(s, buf) result(p)
    character(*), intent(in), optional :: s
    character(kind=c_char), allocatable, target, intent(inout) :: buf(:)
    p = c_null_ptr
    if (.not. present(s)) return
    buf = cchars(s)
    p = c_loc(buf)
  end function

  !> s = ppool_string(p, n): the n bytes at p as a string (a task's bytes: ppool_string(arg, len)).
  function ppool_string(p, n) result(s)
    type(c_ptr), intent(in) :: p
    integer(c_size_t), intent(in) :: n
    character(kind=c_char, len=n) :: s
    character(kind=c_char), pointer :: a(:)
    integer(c_size_t) :: i
    if (n == 0) return
    call c_f_pointer(p, a, [n])
    do i = 1, n
      s(i:i) = a(i)
    end do
  end function

  ! A C string as a Fortran string ("" for NULL).
  function fstring(p) result(s)
    type(c_ptr), intent(in) :: p
    character(kind=c_char, len=:), allocatable :: s
    s = ""
    if (c_associated(p)) s = ppool_string(p, c_strlen(p))
  end function

  ! Copies n bytes from src to dst.
  subroutine copy_bytes(dst, src, n)
    type(c_ptr), intent(in) :: dst, src
    integer(c_size_t), intent(in) :: n
    integer(c_int8_t), pointer :: d(:), s(:)
    if (n == 0) return
    call c_f_pointer(dst, d, [n])
    call c_f_pointer(src, s, [n])
    d = s
  end subroutine

  ! The address and byte size of a scalar of a type the binding passes: integer and real
  ! kinds of C, complex, logical(c_bool), character (its bytes); .false. for another type.
  logical function scalar_at(x, p, n) result(ok)
    class(*), intent(in), target :: x
    type(c_ptr), intent(out) :: p
    integer(c_size_t), intent(out) :: n
    ok = .true.
    p = c_null_ptr
    n = storage_size(x, c_size_t) / 8
    select type (x)
    type is (integer(c_int8_t))
      p = c_loc(x)
    type is (integer(c_int16_t))
      p = c_loc(x)
    type is (integer(c_int32_t))
      p = c_loc(x)
    type is (integer(c_int64_t))
      p = c_loc(x)
    type is (real(c_float))
      p = c_loc(x)
    type is (real(c_double))
      p = c_loc(x)
    type is (complex(c_float_complex))
      p = c_loc(x)
    type is (complex(c_double_complex))
      p = c_loc(x)
    type is (logical(c_bool))
      p = c_loc(x)
    type is (character(*))
      n = len(x, c_size_t)
      if (n > 0) p = c_loc(x(1:1))
    class default
      ok = .false.
    end select
  end function

  ! The address of a 1-D array of those types (NULL when empty) and its element size; else why
  ! not. Never declare such a class(*) dummy contiguous: gfortran 12 then passes an array
  ! section's strided data as if it were contiguous. is_contiguous is right only once typed.
  function array_at(x, p, n) result(why)
    class(*), intent(in), target :: x(:)
    type(c_ptr), intent(out) :: p
    integer(c_size_t), intent(out) :: n
    character(len=:), allocatable :: why
    logical :: dense
    why = ""
    p = c_null_ptr
    n = storage_size(x, c_size_t) / 8
    select type (x)
    type is (integer(c_int8_t))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (integer(c_int16_t))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (integer(c_int32_t))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (integer(c_int64_t))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (real(c_float))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (real(c_double))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (complex(c_float_complex))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (complex(c_double_complex))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    type is (logical(c_bool))
      dense = is_contiguous(x)
      if (dense .and. size(x) > 0) p = c_loc(x)
    class default
      why = "is of a type the binding does not pass"
      return
    end select
    if (.not. dense) why = "is not contiguous (a strided section: copy it to an array first)"
  end function

  ! The C handle of a pool, forgetting the binding's last note: every call on a pool starts here.
  type(c_ptr) function h(pool)
    type(ppool_pool), intent(in) :: pool
    call c_forget()
    h = pool%p
  end function

  ! Notes a failure of the binding's own (ppool_errmsg returns msg) and returns err.
  integer(c_int) function note(p, err, msg)
    type(c_ptr), intent(in) :: p
    integer(c_int), intent(in) :: err
    character(*), intent(in) :: msg
    note = c_note(p, err, msg, len(msg, c_size_t))
  end function

  ! A count as text, for messages.
  function itoa(n) result(s)
    integer(c_size_t), intent(in) :: n
    character(len=:), allocatable :: s
    character(len=24) :: buf
    write (buf, '(i0)') n
    s = trim(buf)
  end function

  ! ---- registering and opening ----

  integer(c_int) function register_fn(name, fn) result(rc)
    character(*), intent(in) :: name
    procedure(ppool_fn) :: fn
    rc = register_funptr(name, c_funloc(fn))
  end function

  integer(c_int) function register_funptr(name, fn) result(rc)
    character(*), intent(in) :: name
    type(c_funptr), value :: fn ! by value: a by-reference constant would need a text relocation
    call c_forget()
    rc = c_register(cchars(name), fn)
  end function

  ! Default kinds as C ints, 0 where absent (the option's default).
  integer(c_int) function opt(x)
    integer, intent(in), optional :: x
    opt = 0
    if (present(x)) opt = int(x, c_int)
  end function

  ! task_timeout in seconds from an integer or a real of any kind.
  logical function seconds(x, s) result(ok)
    class(*), intent(in), optional :: x
    real(c_double), intent(out) :: s
    ok = .true.
    s = 0
    if (.not. present(x)) return
    select type (x)
    type is (real(c_double))
      s = x
    type is (real(c_float))
      s = real(x, c_double)
    type is (integer)
      s = real(x, c_double)
    class default
      ok = .false.
    end select
  end function

  !> rc = ppool_open(pool [, workers, transport, bind, chunksize, initializer, initarg,
  !>                 maxtasksperchild, retries, task_timeout, flags, start]): the fields of
  !> ppool_opts as optional arguments (absent: the default). initarg is a scalar or a string,
  !> copied at open. 0 on the master, PPOOL_WORKER on a process that served, or an error.
  integer(c_int) function ppool_open(pool, workers, transport, bind, chunksize, initializer, &
                                     initarg, maxtasksperchild, retries, task_timeout, &
                                     flags, start) result(rc)
    type(ppool_pool), intent(out) :: pool
    integer, intent(in), optional :: workers, chunksize, maxtasksperchild, retries, flags
    character(*), intent(in), optional :: transport, bind, initializer, start
    class(*), intent(in), optional, target :: initarg
    class(*), intent(in), optional :: task_timeout
    character(kind=c_char), allocatable, target :: t(:), b(:), i(:), s(:)
    type(c_ptr) :: pt, pb, pi, ps, parg
    integer(c_size_t) :: narg
    real(c_double) :: timeout
    call c_forget()
    parg = c_null_ptr
    narg = 0
    if (present(initarg)) then
      if (.not. scalar_at(initarg, parg, narg)) then
        rc = note(c_null_ptr, PPOOL_EINVAL, "initarg: a type the binding does not pass")
        return
      end if
    end if
    if (.not. seconds(task_timeout, timeout)) then
      rc = note(c_null_ptr, PPOOL_EINVAL, "task_timeout: give seconds as an integer or a real")
      return
    end if
    pt = cstr(transport, t)
    pb = cstr(bind, b)
    pi = cstr(initializer, i)
    ps = cstr(start, s)
    rc = c_open(pool%p, opt(workers), pt, pb, int(opt(chunksize), c_long_long), pi, parg, narg, &
                opt(maxtasksperchild), opt(retries), timeout, opt(flags), ps)
  end function

  !> n = ppool_size(pool): the number of workers.
  integer(c_int) function ppool_size(pool)
    type(ppool_pool), intent(in) :: pool
    ppool_size = c_size(pool%p)
  end function

  !> t = ppool_transport(pool): "local" or "mpi".
  function ppool_transport(pool) result(t)
    type(ppool_pool), intent(in) :: pool
    character(len=:), allocatable :: t
    t = fstring(c_transport(pool%p))
  end function

  ! ---- map, map_bufs, apply ----

  integer(c_int) function map_arrays(pool, fn, in, out) result(rc)
    type(ppool_pool), intent(in) :: pool
    character(*), intent(in) :: fn
    class(*), intent(in), target :: in(:)
    class(*), intent(inout), target :: out(:)
    type(c_ptr) :: p, pin, pout
    integer(c_size_t) :: n, in_size, out_size
    character(len=:), allocatable :: why_in, why_out
    p = h(pool)
    n = size(in, kind=c_size_t)
    why_in = array_at(in, pin, in_size)
    why_out = array_at(out, pout, out_size)
    if (len(why_in) > 0) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': in "//why_in)
    else if (len(why_out) > 0) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': out "//why_out)
    else if (size(out, kind=c_size_t) < n) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': out has "//itoa(size(out, kind=c_size_t))// &
                " elements for "//itoa(n)//" items")
    else
      rc = c_map(p, cchars(fn), pin, n, in_size, pout, out_size)
    end if
  end function

  integer(c_int) function map_raw(pool, fn, in, n, in_size, out, out_size) result(rc)
    type(ppool_pool), intent(in) :: pool
    character(*), intent(in) :: fn
    type(c_ptr), intent(in) :: in, out
    integer(c_size_t), intent(in) :: n, in_size, out_size
    rc = c_map(h(pool), cchars(fn), in, n, in_size, out, out_size)
  end function

  !> rc = ppool_map_bufs(pool, fn, in, out): in(i)%data -> out(i)%data, any lengths
  !> (a failed item's result is ""). out must have at least size(in) elements.
  integer(c_int) function ppool_map_bufs(pool, fn, in, out) result(rc)
    type(ppool_pool), intent(in) :: pool
    character(*), intent(in) :: fn
    type(ppool_buf), intent(in), target :: in(:)
    type(ppool_buf), intent(inout) :: out(:)
    type(cbuf), allocatable, target :: cin(:), cout(:)
    type(c_ptr) :: p, pin, pout
    integer(c_size_t) :: i, n
    p = h(pool)
    n = size(in, kind=c_size_t)
    if (size(out, kind=c_size_t) < n) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': out has "//itoa(size(out, kind=c_size_t))// &
                " elements for "//itoa(n)//" items")
      return
    end if
    allocate (cin(n), cout(n))
    do i = 1, n
      if (allocated(in(i)%data)) cin(i) = view(in(i)%data)
    end do
    pin = c_null_ptr
    pout = c_null_ptr
    if (n > 0) pin = c_loc(cin)
    if (n > 0) pout = c_loc(cout)
    rc = c_map_bufs(p, cchars(fn), pin, n, pout)
    do i = 1, n
      call take(cout(i), out(i)%data)
    end do
  end function

  ! A C view of a string's bytes.
  type(cbuf) function view(s)
    character(kind=c_char, len=*), intent(in), target :: s
    view%len = len(s, c_size_t)
    if (len(s) > 0) view%data = c_loc(s(1:1))
  end function

  ! Moves a C result into a string and frees it.
  subroutine take(b, s)
    type(cbuf), intent(inout) :: b
    character(kind=c_char, len=:), allocatable, intent(inout) :: s
    s = ppool_string(b%data, b%len)
    call c_buf_free(b)
  end subroutine

  integer(c_int) function apply_scalar(pool, fn, arg, result) result(rc)
    type(ppool_pool), intent(in) :: pool
    character(*), intent(in) :: fn
    class(*), intent(in), target :: arg
    class(*), intent(inout), optional, target :: result
    type(c_ptr) :: p, pa
    integer(c_size_t) :: n
    p = h(pool)
    if (.not. scalar_at(arg, pa, n)) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': arg is of a type the binding does not pass")
    else
      rc = apply_at(p, fn, pa, n, result)
    end if
  end function

  integer(c_int) function apply_array(pool, fn, arg, result) result(rc)
    type(ppool_pool), intent(in) :: pool
    character(*), intent(in) :: fn
    class(*), intent(in), target :: arg(:)
    class(*), intent(inout), optional, target :: result
    type(c_ptr) :: p, pa
    integer(c_size_t) :: n
    character(len=:), allocatable :: why
    p = h(pool)
    why = array_at(arg, pa, n)
    if (len(why) > 0) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': arg "//why)
    else
      rc = apply_at(p, fn, pa, n * size(arg, kind=c_size_t), result)
    end if
  end function

  ! Applies fn to n bytes at pa; the result, if asked for, lands in result.
  integer(c_int) function apply_at(p, fn, pa, n, result) result(rc)
    type(c_ptr), intent(in) :: p, pa
    character(*), intent(in) :: fn
    integer(c_size_t), intent(in) :: n
    class(*), intent(inout), optional, target :: result
    type(cbuf), target :: r
    if (.not. present(result)) then
      rc = c_apply(p, cchars(fn), pa, n, c_null_ptr)
      return
    end if
    rc = c_apply(p, cchars(fn), pa, n, c_loc(r))
    if (rc == 0) rc = deliver(p, fn, r, result)
    call c_buf_free(r)
  end function

  ! Puts a result's bytes in result: a ppool_buf takes any length, a string at least as long
  ! (blank-padded), a number exactly its size.
  integer(c_int) function deliver(p, fn, r, result) result(rc)
    type(c_ptr), intent(in) :: p
    character(*), intent(in) :: fn
    type(cbuf), intent(inout) :: r
    class(*), intent(inout), target :: result
    type(c_ptr) :: pr
    integer(c_size_t) :: n
    rc = 0
    select type (result)
    type is (ppool_buf)
      call take(r, result%data)
      return
    type is (character(*))
      if (r%len <= len(result, c_size_t)) then
        result = ppool_string(r%data, r%len)
        return
      end if
    end select
    if (.not. scalar_at(result, pr, n)) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': a result variable of a type the binding"// &
                " does not fill (use type(ppool_buf))")
    else if (n /= r%len) then
      rc = note(p, PPOOL_EINVAL, "'"//trim(fn)//"': the result has "//itoa(r%len)// &
                " bytes for a "//itoa(n)//"-byte variable (use type(ppool_buf))")
    else
      call copy_bytes(pr, r%data, n)
    end if
  end function

  !> count = ppool_map_failed(pool [, index, status]): every failed item of this thread's last
  !> map on pool; the first ones' positions (from 1) in index(:) and codes in status(:).
  integer(c_size_t) function ppool_map_failed(pool, index, status) result(count)
    type(ppool_pool), intent(in) :: pool
    integer(c_size_t), intent(out), optional, target, contiguous :: index(:)
    integer(c_int), intent(out), optional, target, contiguous :: status(:)
    type(c_ptr) :: pi, ps
    integer(c_size_t) :: cap
    cap = huge(cap)
    pi = c_null_ptr
    ps = c_null_ptr
    if (present(index)) cap = min(cap, size(index, kind=c_size_t))
    if (present(status)) cap = min(cap, size(status, kind=c_size_t))
    if (.not. (present(index) .or. present(status))) cap = 0
    if (cap > 0 .and. present(index)) pi = c_loc(index)
    if (cap > 0 .and. present(status)) ps = c_loc(status)
    count = c_map_failed(pool%p, pi, ps, cap)
    if (present(index)) index(1:min(count, cap)) = index(1:min(count, cap)) + 1
  end function

  ! ---- close, join, terminate, free ----

  !> rc = ppool_close(pool): no new work; outstanding work goes on.
  integer(c_int) function ppool_close(pool)
    type(ppool_pool), intent(in) :: pool
    ppool_close = c_close(h(pool))
  end function

  !> rc = ppool_join(pool): after ppool_close, waits for the work and stops the workers.
  integer(c_int) function ppool_join(pool)
    type(ppool_pool), intent(in) :: pool
    ppool_join = c_join(h(pool))
  end function

  !> rc = ppool_terminate(pool): stops the workers now; outstanding work fails PPOOL_ECLOSED.
  integer(c_int) function ppool_terminate(pool)
    type(ppool_pool), intent(in) :: pool
    ppool_terminate = c_terminate(h(pool))
  end function

  !> call ppool_free(pool): terminates if still running and releases the pool (then no pool).
  subroutine ppool_free(pool)
    type(ppool_pool), intent(inout) :: pool
    call c_free(h(pool))
    pool%p = c_null_ptr
  end subroutine

  ! ---- inside a task ----

  integer(c_int) function return_scalar(task, x) result(rc)
    type(c_ptr), intent(in) :: task
    class(*), intent(in), target :: x
    type(c_ptr) :: p
    integer(c_size_t) :: n
    if (scalar_at(x, p, n)) then
      rc = c_task_return(task, p, n)
    else
      rc = ppool_task_fail(task, "ppool_task_return: a type the binding does not pass")
    end if
  end function

  integer(c_int) function return_array(task, x) result(rc)
    type(c_ptr), intent(in) :: task
    class(*), intent(in), target :: x(:)
    type(c_ptr) :: p
    integer(c_size_t) :: n
    character(len=:), allocatable :: why
    why = array_at(x, p, n)
    if (len(why) > 0) then
      rc = ppool_task_fail(task, "ppool_task_return: the array "//why)
    else
      rc = c_task_return(task, p, n * size(x, kind=c_size_t))
    end if
  end function

  !> rc = ppool_task_fail(task, message): fails the running item; returns PPOOL_ETASK, so a
  !> task can end with `f = ppool_task_fail(task, "bad input")`.
  integer(c_int) function ppool_task_fail(task, message) result(rc)
    type(c_ptr), intent(in) :: task
    character(*), intent(in) :: message
    rc = c_task_fail(task, message, len_trim(message, c_size_t))
  end function

  !> i = ppool_task_index(task): the running item's position in its map, from 1 (1 for apply).
  integer(c_size_t) function ppool_task_index(task)
    type(c_ptr), intent(in) :: task
    ppool_task_index = c_task_index(task) + 1
  end function

  ! ---- errors and helpers ----

  !> s = ppool_strerror(rc): the message of an error code.
  function ppool_strerror(err) result(s)
    integer(c_int), intent(in) :: err
    character(len=:), allocatable :: s
    s = fstring(c_strerror(err))
  end function

  !> s = ppool_errname(rc): the name of an error code ("PPOOL_ETASK").
  function ppool_errname(err) result(s)
    integer(c_int), intent(in) :: err
    character(len=:), allocatable :: s
    s = fstring(c_errname(err))
  end function

  !> s = ppool_errmsg([pool]): the detail of this thread's last failure on pool (without pool:
  !> of the last ppool_open or ppool_register); "" if none.
  function ppool_errmsg(pool) result(s)
    type(ppool_pool), intent(in), optional :: pool
    character(len=:), allocatable :: s
    if (present(pool)) then
      s = fstring(c_errmsg(pool%p))
    else
      s = fstring(c_errmsg(c_null_ptr))
    end if
  end function

  !> n = ppool_cpu_count(): usable cores (hwloc, affinity and cgroup aware).
  integer(c_int) function ppool_cpu_count()
    ppool_cpu_count = c_cpu_count()
  end function

  !> v = ppool_version(): the library's version, "0.1.0".
  function ppool_version() result(v)
    character(len=:), allocatable :: v
    v = fstring(c_version())
  end function
end module ppool
